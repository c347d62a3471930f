import { describe, expect, it } from 'vitest';
import { probeVerdict, type ProbeFacts } from '../../src/sandbox/probe.js';

const base: ProbeFacts = { bwrap: '/usr/bin/bwrap', code: 1, stderr: 'bwrap: setting up uid map: Permission denied\n', apparmorRestrict: null, unprivilegedClone: null, maxUserNamespaces: '15000' };

describe('probeVerdict: does bubblewrap work here, and if not, why and the fix', () => {
  it.each([
    ['it works', { code: 0, stderr: '' }, { ok: true }, ''],
    ['not installed', { bwrap: null }, { ok: false }, 'apt-get install bubblewrap'],
    ["Ubuntu 24.04's AppArmor restriction", { apparmorRestrict: '1' }, { ok: false }, 'apparmor_restrict_unprivileged_userns'],
    ['unprivileged user namespaces off (Debian sysctl)', { unprivilegedClone: '0' }, { ok: false }, 'kernel.unprivileged_userns_clone=1'],
    ['no user namespaces at all', { maxUserNamespaces: '0' }, { ok: false }, 'user.max_user_namespaces'],
    ['something else: bwrap\'s own words', { stderr: 'bwrap: Creating new namespace failed: Operation not permitted\n' }, { ok: false }, 'Creating new namespace failed: Operation not permitted'],
  ] as const)('%s', (_name, over, expected, words) => {
    const verdict = probeVerdict({ ...base, ...over });
    expect(verdict).toMatchObject(expected);
    if (!verdict.ok) expect(`${verdict.why} ${verdict.fix}`).toContain(words);
  });
});

import { describe, expect, it } from 'vitest';
import { reach, renderAgents, type AgentListing } from '../../src/cli/agents.js';

const agent = (name: string, sandbox: string, network = 'open'): AgentListing['configured'][number] => ({ name, type: 'claude', model: null, sandbox, network, usable: true, problem: null });

describe('what `swarm agents` says an agent can reach', () => {
  it('unsandboxed: keys, the daemon token, other worktrees and main, and how to confine it', () => {
    const text = reach('none').join('\n');
    for (const words of ['~/.ssh', '.swarm/daemon.json', 'other tasks\' worktrees', 'move main', '"sandbox": "bwrap"']) expect(text).toContain(words);
  });

  it('sandboxed: its own checkout and home only, secrets hidden, main out of reach; the network as configured', () => {
    expect(reach('bwrap').join('\n')).toContain('Cannot move main or any other branch');
    expect(reach('bwrap').join('\n')).toContain('network open');
    expect(reach('bwrap', 'endpoints').join('\n')).toContain('network limited to its endpoints');
  });

  it('each configured agent gets its own lines', () => {
    const text = renderAgents({ configured: [agent('boxed', 'bwrap'), agent('open', 'none')], installed: [] });
    const open = text.slice(text.indexOf('  open '));
    expect(open).toContain('sandbox: NONE');
    expect(text.slice(0, text.indexOf('  open '))).toContain('sandbox: bubblewrap');
  });
});

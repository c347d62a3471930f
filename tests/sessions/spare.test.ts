import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { HOLDER_SCRIPT, killSession, readSessionExit, startSession } from '../../src/sessions/sessions.js';
import { SpareHolder } from '../../src/sessions/spare.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../../src/wait.js';
import { tempDir } from '../helpers/sample.js';

/** Alive and not a zombie waiting for us to reap it. */
function running(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('spare session holder (real holder, real pty)', () => {
  let dir: string;
  let sessions: string;
  let spares: SpareHolder | null = null;
  const started: string[] = [];
  beforeEach(() => {
    dir = tempDir('spare');
    sessions = join(dir, 'sessions');
    mkdirSync(sessions);
  });
  afterEach(async () => {
    spares?.stop();
    spares = null;
    for (const session of started.splice(0)) killSession(session, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const agent = (record: string, text: string): string[] => [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(record)}, 'ran\\n'); process.stdout.write(${JSON.stringify(text)})`];
  const spec = (argv: string[]) => ({ argv, cwd: dir, env: { PATH: process.env.PATH ?? '' }, cols: 80, rows: 24, scrollback_bytes: 4096 });

  it('a handed spare runs the session as a holder started for it would: agent, transcript, exit, its log in the session', async () => {
    spares = new SpareHolder(HOLDER_SCRIPT, dir, silentLogger());
    spares.fill();
    const sparePid = spares.pid!;
    const session = join(sessions, 's1');
    started.push(session);
    const record = join(dir, 'runs.log');
    const state = await startSession(session, spec(agent(record, 'hello from the handed spare')), spares);
    expect(state.holder_pid).toBe(sparePid);
    const exit = await waitFor(() => readSessionExit(session) ?? undefined, { timeoutMs: 10_000, what: 'exit.json' });
    expect(exit.exit_code).toBe(0);
    expect(readFileSync(join(session, 'transcript.log'), 'utf8')).toContain('hello from the handed spare');
    expect(readFileSync(record, 'utf8')).toBe('ran\n');
    expect(readFileSync(join(session, 'holder.log'), 'utf8')).toContain('child exited code=0');
    // No spare log is left beside the sessions; none is waiting until asked for.
    expect(readdirSync(dir).filter((f) => f.startsWith('spare-holder-'))).toEqual([]);
    expect(spares.handOver(join(sessions, 'unused'))).toBeNull();
  });

  it('a spare whose daemon goes away exits by itself (stop, or its pipe closing), leaving no log', async () => {
    spares = new SpareHolder(HOLDER_SCRIPT, dir, silentLogger());
    spares.fill();
    const pid = spares.pid!;
    expect(running(pid)).toBe(true);
    spares.stop();
    await waitFor(() => (running(pid) ? undefined : true), { timeoutMs: 10_000, what: 'the spare to exit' });
    expect(readdirSync(dir).filter((f) => f.startsWith('spare-holder-'))).toEqual([]);
  });

  it('a spare that died before taking its session: a holder of its own starts it, and the agent runs once', async () => {
    spares = new SpareHolder(HOLDER_SCRIPT, dir, silentLogger());
    spares.fill();
    const pid = spares.pid!;
    process.kill(pid, 'SIGKILL');
    const session = join(sessions, 's2');
    started.push(session);
    const record = join(dir, 'runs.log');
    const state = await startSession(session, spec(agent(record, 'started anyway')), spares);
    expect(state.holder_pid).not.toBe(pid);
    expect(isSameProcessAlive(state.holder_pid, state.holder_start)).toBe(true);
    await waitFor(() => readSessionExit(session) ?? undefined, { timeoutMs: 10_000, what: 'exit.json' });
    expect(readFileSync(record, 'utf8')).toBe('ran\n');
  });

  it('spares that keep dying are given up after three, said in the log; launches start their own holders', async () => {
    const broken = join(dir, 'broken-holder.cjs');
    writeFileSync(broken, "process.stderr.write('cannot load node-pty\\n'); process.exit(1);\n");
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    spares = new SpareHolder(broken, dir, log);
    spares.fill();
    await waitFor(() => (lines.some((l) => l.includes('keep dying')) ? true : undefined), { timeoutMs: 15_000, what: 'the give-up warning' });
    expect(lines.filter((l) => l.includes('died before use'))).toHaveLength(2);
    spares.fill();
    expect(spares.pid).toBeNull();
    const session = join(sessions, 's3');
    started.push(session);
    const record = join(dir, 'runs.log');
    await startSession(session, spec(agent(record, 'own holder')), spares);
    await waitFor(() => readSessionExit(session) ?? undefined, { timeoutMs: 10_000, what: 'exit.json' });
    expect(readFileSync(record, 'utf8')).toBe('ran\n');
    // The dead spares' logs stay, so the cause can be read.
    const logs = readdirSync(dir).filter((f) => f.startsWith('spare-holder-'));
    expect(logs).toHaveLength(3);
    expect(readFileSync(join(dir, logs[0]!), 'utf8')).toContain('cannot load node-pty');
    // A later daemon's start tidies them away.
    spares = new SpareHolder(broken, dir, silentLogger());
    expect(readdirSync(dir).filter((f) => f.startsWith('spare-holder-'))).toEqual([]);
    expect(existsSync(join(session, 'holder.log'))).toBe(true);
  });
});

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentCommand, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

/** Peak resident memory of a process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0');
  return kb / 1024;
}

describe('an agent that prints without end', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it.runIf(process.platform === 'linux')('200 MB of output: the transcript is capped and rotated, the daemon memory stays flat, the task still ends right', async () => {
    box = sandbox('flood');
    writeConfig(box, { agents: { printer: { command: agentCommand('printer.mjs'), env: { AGENT_PRINT_MB: process.env.FLOOD_MB ?? '200' } } }, ci: { command: SAMPLE_CI }, transcript_max_mb: 8 });
    daemon = await runDaemon(box);
    const idle = peakRssMb(daemon.child.pid!);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 110_000);
    expect(task.state).toBe('ready');
    const peak = peakRssMb(daemon.child.pid!);
    process.stdout.write(`${process.env.FLOOD_MB ?? '200'} MB printer: daemon peak RSS ${peak.toFixed(0)} MB (idle peak ${idle.toFixed(0)} MB)\n`);
    const registry = openRegistry(box);
    const dir = registry.attempts(id).find((a) => a.kind === 'agent')!.session_dir;
    registry.close();
    const current = statSync(join(dir, 'transcript.log')).size;
    const previous = statSync(join(dir, 'transcript.log.1')).size;
    expect(current).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(previous).toBeLessThanOrEqual(8 * 1024 * 1024 + 64 * 1024);
    expect(readFileSync(join(dir, 'transcript.log'), 'utf8')).toContain('printer: done');
    // Bounded: the daemon never holds a transcript in memory (the issue measured a 595 MB peak for 500 MB).
    expect(peak).toBeLessThan(idle + 150);
  });
});

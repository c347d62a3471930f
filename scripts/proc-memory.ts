/** A process's memory as the benchmarks report it, from /proc (Linux). */
import { readFileSync } from 'node:fs';

/**
 * RSS and PSS in kB (0 when the process is gone). PSS divides shared pages (the node binary, libraries) among
 * the processes sharing them.
 */
export function memoryKb(pid: number): { rss: number; pss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss: Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0), pss: Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0) };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

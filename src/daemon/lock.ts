import Database from 'better-sqlite3';
import { DaemonError } from '../errors.js';

/**
 * One daemon per state directory. The lock is an exclusive SQLite transaction held for the daemon's life:
 * the kernel drops it when the process dies, however it dies, so a crashed daemon never leaves it stuck.
 */
export class DaemonLock {
  private constructor(private readonly db: Database.Database) {}

  static acquire(file: string): DaemonLock {
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
      db.exec('BEGIN EXCLUSIVE');
      db.prepare('DELETE FROM holder').run();
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
      return new DaemonLock(db);
    } catch (err) {
      db.close();
      if (err instanceof Error && 'code' in err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) {
        throw new DaemonError('SWARM_DAEMON_RUNNING', 'A swarm daemon is already running for this repository. Use `swarm daemon status`, or `swarm daemon stop` first.');
      }
      throw err;
    }
  }

  release(): void {
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
    }
  }
}

import { execFile } from 'node:child_process';
import type { Notification, NotifyChannel } from './channel.js';

function run(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${program} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** notify-send on Linux, osascript on macOS; title and body travel as arguments, never as script text. */
export function desktopChannel(platform: NodeJS.Platform = process.platform): NotifyChannel {
  return {
    name: 'desktop',
    async send(n: Notification) {
      if (platform === 'darwin') {
        await run('osascript', ['-e', 'on run argv', '-e', 'display notification (item 2 of argv) with title (item 1 of argv)', '-e', 'end run', n.title, n.body]);
      } else if (platform === 'win32') {
        throw new Error('desktop notifications are not supported on Windows yet; use ntfy or a webhook');
      } else {
        await run('notify-send', ['--app-name=worktree-swarm', n.title, n.body]);
      }
    },
  };
}

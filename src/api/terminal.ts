/**
 * A browser's terminal: one WebSocket relayed to the session holder's socket, the same client `swarm attach`
 * is. Output is sent as binary frames (the terminal's bytes); the screen and the exit as JSON text frames. The holder answers the screen request with the serialized screen before any further output, so a
 * (re)connecting browser draws the terminal as it is, then goes live. Closing the socket never ends the agent.
 */
import type { WebSocket } from 'ws';
import type { Runner } from '../runners/runner.js';
import { TerminalInput } from './schemas.js';

/** A browser this far behind is resynced from the screen (it reconnects) rather than buffered without end. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export interface TerminalStats {
  bytes: number;
  open: number;
  /** Screens sent: one per (re)connect. */
  screens: number;
}

export async function relayTerminal(ws: WebSocket, runner: Runner, sessionDir: string, stats: TerminalStats): Promise<void> {
  let connection;
  try {
    connection = await runner.connect(sessionDir, {
      onMessage: (message) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED) {
          ws.close(4408, 'too far behind; reconnect for the current screen');
          return;
        }
        // Output goes as raw bytes (a binary frame): JSON would spell every escape code as \u001b, doubling it.
        const frame = message.t === 'output' ? Buffer.from(message.data, 'utf8') : JSON.stringify(message);
        stats.bytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
        if (message.t === 'replay') stats.screens++;
        ws.send(frame);
      },
    });
  } catch {
    ws.close(4404, 'this session has ended');
    return;
  }
  const live = connection;
  stats.open++;
  void live.closed.then(() => stats.open--);
  live.send({ t: 'screen' });
  ws.on('message', (raw) => {
    let parsed;
    try {
      parsed = TerminalInput.safeParse(JSON.parse(String(raw)));
    } catch {
      return;
    }
    if (parsed.success) live.send(parsed.data);
  });
  ws.on('close', () => live.close());
  void live.closed.then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000, 'session ended');
  });
}

/**
 * Pure: what a terminal log says once it is on screen. Test runners redraw progress lines in place (jest's
 * "RUNS", vitest's "[queued]", tap's live counters): stripping colour codes alone leaves every redraw behind,
 * so the log is replayed line by line — carriage return, backspace, cursor up/down/column, erase in line and
 * below — and what remains is the text a person would have read. Colours, OSC titles and charset switches go.
 */

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]/g;

/** Colours and control sequences removed, line ends normalised: for one-line messages, not for redrawn logs. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r\n?/g, '\n');
}

// One token at a time: a CSI sequence (params, final byte), an OSC string, a two-byte escape, a control char, or text.
// eslint-disable-next-line no-control-regex
const TOKEN = /\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]|([\r\n\b\t])|([^\x1b\r\n\b\t]+)/g;

/** Replays the log's line edits; returns the lines as they ended up (right-trimmed, no colour). */
export function renderTerminal(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => (lines[row] ??= []);
  for (const match of raw.matchAll(TOKEN)) {
    const [, params, final, control, text] = match;
    if (text !== undefined) {
      const cells = line();
      for (const ch of text) {
        while (cells.length < col) cells.push(' ');
        cells[col++] = ch;
      }
    } else if (control !== undefined) {
      if (control === '\n') {
        row++;
        col = 0;
        line();
      } else if (control === '\r') col = 0;
      else if (control === '\b') col = Math.max(0, col - 1);
      else col += 8 - (col % 8);
    } else if (final !== undefined) {
      const n = Math.max(1, Number.parseInt(params ?? '', 10) || 1);
      const mode = Number.parseInt(params ?? '0', 10) || 0;
      switch (final) {
        case 'A':
        case 'F':
          row = Math.max(0, row - n);
          if (final === 'F') col = 0;
          break;
        case 'B':
        case 'E':
          row += n;
          line();
          if (final === 'E') col = 0;
          break;
        case 'C':
          col += n;
          break;
        case 'D':
          col = Math.max(0, col - n);
          break;
        case 'G':
          col = n - 1;
          break;
        case 'K': {
          const cells = line();
          if (mode === 0) cells.length = Math.min(cells.length, col);
          else if (mode === 1) cells.fill(' ', 0, Math.min(cells.length, col + 1));
          else cells.length = 0;
          break;
        }
        case 'J':
          // Erase below (the usual redraw): the rest of this line and every line under it.
          if (mode === 0) {
            line().length = Math.min(line().length, col);
            lines.length = row + 1;
          }
          break;
        default:
          break; // colours (m), modes (h/l), cursor save/restore: nothing to keep
      }
    }
  }
  return lines.map((cells) => cells.join('').replace(/\s+$/, ''));
}

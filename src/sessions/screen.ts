/**
 * The terminal as it is, kept by the session holder in a headless xterm: a client that connects (`swarm
 * attach`, the daemon, a dashboard) gets the current screen and recent scrollback, serialized, instead of
 * the raw bytes that drew it (a progress bar redrawn ten thousand times is one line here).
 */
import headless from '@xterm/headless';
import serialize from '@xterm/addon-serialize';

const { Terminal } = headless;
const { SerializeAddon } = serialize;

export class Screen {
  private readonly term: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;

  constructor(cols: number, rows: number, private readonly scrollback = 1000) {
    this.term = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
  }

  write(data: string): void {
    this.term.write(data);
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
  }

  /** The serialized screen once everything written so far is parsed (writes are queued, not synchronous). */
  snapshot(): Promise<string> {
    return new Promise((resolve) => this.term.write('', () => resolve(this.serializer.serialize({ scrollback: this.scrollback }))));
  }
}

/**
 * The terminal as it is, for a client that asks (`swarm attach`, a dashboard): the holder's recent output is
 * replayed into a headless xterm (@xterm/headless) and serialized with its scrollback (the serialize addon),
 * so a progress bar redrawn ten thousand times arrives as one line. Built on demand and dropped after: a
 * holder nobody attaches to never loads xterm (the daemon's own watch connections do not ask for screens).
 */
export async function renderScreen(output: string, cols: number, rows: number, scrollback = 1000): Promise<string> {
  const [{ default: headless }, { default: serialize }] = await Promise.all([import('@xterm/headless'), import('@xterm/addon-serialize')]);
  const term = new headless.Terminal({ cols, rows, scrollback, allowProposedApi: true });
  const serializer = new serialize.SerializeAddon();
  term.loadAddon(serializer);
  try {
    await new Promise<void>((resolve) => term.write(output, resolve));
    return serializer.serialize({ scrollback });
  } finally {
    term.dispose();
  }
}

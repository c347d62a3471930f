/** Every live session at once; click one to focus it full size and type into it (Esc or the button leaves it running). */
import { useEffect, useState } from 'preact/hooks';
import { navigate, type Card } from './api.js';
import { LiveTerminal } from './terminal.js';

export function GridView(props: { cards: Card[] }) {
  const [focus, setFocus] = useState<string | null>(null);
  const live = props.cards.filter((c) => c.session !== null).sort((a, b) => a.id - b.id);
  const focused = live.find((c) => c.session?.id === focus) ?? null;
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape' && event.ctrlKey) setFocus(null);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  if (focused?.session) {
    return (
      <main class="grid-page">
        <div class="toolbar">
          <button onClick={() => setFocus(null)} data-action="leave">← all sessions</button>
          <span class="focus-title">
            #{focused.id} {focused.title} <span class="dim">({focused.session.name}; leaving keeps it running; Ctrl+Esc)</span>
          </span>
          <a href={`/tasks/${focused.id}`} onClick={(e) => (e.preventDefault(), navigate(`/tasks/${focused.id}`))}>task page</a>
        </div>
        <LiveTerminal key={`f-${focused.session.id}`} session={focused.session.id} focused />
      </main>
    );
  }
  return (
    <main class="grid-page">
      {live.length === 0 ? <p class="empty">No agent is running. Spawn a task from the board.</p> : null}
      <div class="grid">
        {live.map((card) => (
          <section class="tile" key={card.session!.id} data-task={card.id} onClick={() => setFocus(card.session!.id)}>
            <header>
              <span class="id">#{card.id}</span> {card.title} <span class="dim">· {card.session!.name} · {card.agent}</span>
            </header>
            <LiveTerminal session={card.session!.id} focused={false} />
          </section>
        ))}
      </div>
    </main>
  );
}

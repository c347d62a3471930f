/** The board: a column per stage, a card per task, filters, and the spawn form. */
import { useEffect, useState } from 'preact/hooks';
import { action, call, elapsed, navigate, type Card, type Status } from './api.js';

export const COLUMNS: { id: Card['column']; label: string }[] = [
  { id: 'queued', label: 'Queued' },
  { id: 'running', label: 'Running' },
  { id: 'ci', label: 'CI' },
  { id: 'review', label: 'Review' },
  { id: 'ready', label: 'Ready' },
  { id: 'needs_help', label: 'Needs help' },
  { id: 'done', label: 'Done' },
];

export function Badges(props: { card: Card }) {
  const { card } = props;
  return (
    <span class="badges">
      {card.ci ? <span class={`badge ci-${card.ci}`}>CI {card.ci === 'passed' ? '✓' : card.ci === 'failed' ? '✗' : '…'}</span> : null}
      {card.review ? (
        <span class={`badge review ${card.review.blocking ? 'blocking' : card.review.approvals >= card.review.of && card.review.of > 0 ? 'approved' : ''}`}>
          review {card.review.approvals}/{card.review.of}
          {card.review.blocking ? ` ✗${card.review.blocking}` : ''}
          {card.review.running ? ' …' : ''}
        </span>
      ) : null}
      {card.pr?.url ? <span class="badge pr">PR #{card.pr.number}</span> : null}
      {card.state === 'proposed' || card.state === 'blocked' || card.state === 'cancelled' ? <span class="badge state">{card.state}</span> : null}
    </span>
  );
}

export function Actions(props: { card: Card; onError: (message: string) => void }) {
  const { card } = props;
  const [busy, setBusy] = useState(false);
  const run = (verb: 'retry' | 'kill' | 'merge' | 'approve') => async (event: Event) => {
    event.stopPropagation();
    if (verb === 'kill' && !confirm(`Cancel task ${card.id} and end its sessions?`)) return;
    setBusy(true);
    try {
      await action(card.id, verb);
    } catch (err) {
      props.onError(`Task ${card.id}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const can = {
    approve: card.state === 'proposed',
    merge: card.state === 'ready',
    retry: card.state === 'needs_help' || card.state === 'cancelled' || card.state === 'ready',
    kill: card.state !== 'done' && card.state !== 'cancelled',
  };
  return (
    <span class="actions">
      {(Object.keys(can) as (keyof typeof can)[])
        .filter((verb) => can[verb])
        .map((verb) => (
          <button key={verb} class={`act ${verb}`} disabled={busy} onClick={run(verb)} data-action={verb}>
            {verb}
          </button>
        ))}
    </span>
  );
}

export function CardView(props: { card: Card; now: number; onError: (m: string) => void }) {
  const { card, now } = props;
  return (
    <article class={`card state-${card.state}`} data-task={card.id} data-state={card.state} onClick={() => navigate(`/tasks/${card.id}`)}>
      <header>
        <span class="id">#{card.id}</span> <span class="title">{card.title}</span>
      </header>
      <div class="meta">
        <span>{card.agent}{card.model ? ` · ${card.model}` : ''}{card.host ? ` · on ${card.host}` : ''}</span>
        <span title="attempt · retries">a{card.attempt} · r{card.retries}/{card.max_retries}</span>
        <span class="elapsed">{elapsed(card, now)}</span>
      </div>
      {card.last_line ? <pre class="last-line">{card.last_line}</pre> : card.reason ? <div class="reason">{card.reason}</div> : null}
      <footer>
        <Badges card={card} />
        <Actions card={card} onError={props.onError} />
      </footer>
    </article>
  );
}

export function SpawnForm(props: { status: Status | null; onError: (m: string) => void; onDone: () => void }) {
  const [prompt, setPrompt] = useState('');
  const [agent, setAgent] = useState('');
  const [kind, setKind] = useState('');
  const [model, setModel] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await call('POST', '/api/v1/tasks', { prompt, ...(agent ? { agent } : {}), ...(kind ? { kind } : {}), ...(model ? { model } : {}) });
      setPrompt('');
      props.onDone();
    } catch (err) {
      props.onError(`Spawn: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="spawn" onSubmit={submit}>
      <textarea name="prompt" placeholder="What should an agent do?" value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} required rows={3} />
      <div class="row">
        <select name="agent" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
          <option value="">default agent</option>
          {(props.status?.agents ?? []).map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
        <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="">any kind</option>
          {(props.status?.kinds ?? []).map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <input name="model" placeholder="model (optional)" value={model} onInput={(e) => setModel(e.currentTarget.value)} />
        <button type="submit" disabled={busy || !prompt.trim()}>Spawn</button>
      </div>
    </form>
  );
}

/** Where a person's attention goes first on a phone, which shows one column at a time. */
const ATTENTION: Card['column'][] = ['needs_help', 'ready', 'review', 'running', 'ci', 'queued', 'done'];

function useNarrow(): boolean {
  const query = '(max-width: 720px)';
  const [narrow, setNarrow] = useState(matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const onChange = (): void => setNarrow(list.matches);
    list.addEventListener('change', onChange);
    return () => list.removeEventListener('change', onChange);
  }, []);
  return narrow;
}

export function BoardView(props: { cards: Card[]; status: Status | null; now: number; onError: (m: string) => void }) {
  const narrow = useNarrow();
  const [tab, setTab] = useState<Card['column'] | null>(null);
  const [column, setColumn] = useState('');
  const [agent, setAgent] = useState('');
  const [kind, setKind] = useState('');
  const [spawning, setSpawning] = useState(false);
  const agents = [...new Set(props.cards.map((c) => c.agent))].sort();
  const kinds = [...new Set(props.cards.map((c) => c.kind).filter((k): k is string => k !== null))].sort();
  const shown = props.cards.filter((c) => (!column || c.column === column) && (!agent || c.agent === agent) && (!kind || c.kind === kind));
  const phoneColumn = tab ?? ATTENTION.find((c) => shown.some((card) => card.column === c)) ?? 'queued';
  const visible = COLUMNS.filter((c) => (narrow ? c.id === phoneColumn : !column || c.id === column));
  return (
    <main class="board-page">
      <div class="toolbar">
        <select aria-label="state" value={column} onChange={(e) => setColumn(e.currentTarget.value)}>
          <option value="">all states</option>
          {COLUMNS.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
        </select>
        <select aria-label="agent" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
          <option value="">all agents</option>
          {agents.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
        <select aria-label="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="">all kinds</option>
          {kinds.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <button class="primary" onClick={() => setSpawning(!spawning)}>{spawning ? 'Close' : 'New task'}</button>
      </div>
      {spawning ? <SpawnForm status={props.status} onError={props.onError} onDone={() => setSpawning(false)} /> : null}
      {narrow ? (
        <div class="tabs" role="tablist">
          {COLUMNS.map((c) => (
            <button key={c.id} role="tab" class={c.id === phoneColumn ? 'on' : ''} aria-selected={c.id === phoneColumn} data-tab={c.id} onClick={() => setTab(c.id)}>
              {c.label} <span class="count">{shown.filter((card) => card.column === c.id).length}</span>
            </button>
          ))}
        </div>
      ) : null}
      <div class="board">
        {visible.map((c) => {
          const cards = shown.filter((card) => card.column === c.id).sort((a, b) => b.id - a.id);
          return (
            <section class="column" key={c.id} data-column={c.id}>
              <h2>
                {c.label} <span class="count">{cards.length}</span>
              </h2>
              {cards.map((card) => <CardView key={card.id} card={card} now={props.now} onError={props.onError} />)}
            </section>
          );
        })}
      </div>
    </main>
  );
}

/** The dashboard: board, sessions grid and task pages over one live event stream. */
import '@xterm/xterm/css/xterm.css';
import 'diff2html/bundles/css/diff2html.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { navigate, subscribe, type Board, type Status } from './api.js';
import { BoardView } from './board.js';
import { GridView } from './grid.js';
import { TaskView } from './task.js';

function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = (): void => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return path;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

function StatusLine(props: { status: Status | null; connected: boolean }) {
  const s = props.status;
  if (!props.connected) return <span class="status offline" data-connected="false">daemon unreachable, reconnecting…</span>;
  if (!s) return <span class="status" data-connected="true">connected</span>;
  const rate = s.forge_health?.rate;
  return (
    <span class="status" data-connected="true" title={`daemon ${s.version}, pid ${s.pid}`}>
      {s.active}/{s.concurrency} running · {s.queued} queued · free {mb(s.memory.free)} of {mb(s.memory.total)} · daemon {mb(s.memory.daemon_rss)}
      {rate ? ` · GitHub ${rate.remaining}/${rate.limit}` : ''}
      {s.forge_health && !s.forge_health.ok ? ` · ${s.forge_health.why ?? 'forge unhealthy'}` : ''}
      {s.admission?.reason ? <span class="waits"> · {s.admission.reason}</span> : null}
    </span>
  );
}

function App() {
  const path = usePath();
  const [board, setBoard] = useState<Board>({ cards: new Map(), status: null, connected: false });
  const [now, setNow] = useState(Date.now());
  const [errors, setErrors] = useState<string[]>([]);
  useEffect(() => subscribe(setBoard), []);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const onError = (message: string): void => setErrors((list) => [...list.slice(-3), message]);
  const cards = [...board.cards.values()];
  const task = /^\/tasks\/(\d+)$/.exec(path);
  const link = (to: string, label: string) => (
    <a href={to} class={path === to ? 'on' : ''} onClick={(e) => (e.preventDefault(), navigate(to))}>
      {label}
    </a>
  );
  return (
    <>
      <nav class="top">
        <b class="brand">swarm</b>
        {link('/', 'Board')}
        {link('/grid', `Sessions (${cards.filter((c) => c.session).length})`)}
        <StatusLine status={board.status} connected={board.connected} />
      </nav>
      {errors.length ? (
        <div class="errors" role="alert">
          {errors.map((e, i) => <div key={i}>{e}</div>)}
          <button onClick={() => setErrors([])}>dismiss</button>
        </div>
      ) : null}
      {task ? <TaskView id={Number(task[1])} card={board.cards.get(Number(task[1]))} now={now} onError={onError} /> : path === '/grid' ? <GridView cards={cards} /> : <BoardView cards={cards} status={board.status} now={now} onError={onError} />}
    </>
  );
}

render(<App />, document.getElementById('app')!);

/** A task's page: prompt, attempts and their evidence, reviews, CI log, the diff, the PR, the DAG, the events. */
import { useEffect, useState } from 'preact/hooks';
import { html as diffHtml } from 'diff2html';
import { call, elapsed, navigate, type Card, type TaskPage } from './api.js';
import { Actions, Badges } from './board.js';
import { LiveTerminal } from './terminal.js';

/** diff2html's dark scheme (its enum is declared, not exported as a value, in its typings). */
const DARK = 'dark' as NonNullable<NonNullable<Parameters<typeof diffHtml>[1]>['colorScheme']>;

function time(at: number | null): string {
  return at === null ? '' : new Date(at).toLocaleString();
}

function Link(props: { id: number; title: string; state: string }) {
  return (
    <li>
      <a href={`/tasks/${props.id}`} onClick={(e) => (e.preventDefault(), navigate(`/tasks/${props.id}`))}>
        #{props.id} {props.title}
      </a>{' '}
      <span class={`badge state-${props.state}`}>{props.state}</span>
    </li>
  );
}

function Evidence(props: { evidence: unknown }) {
  const e = props.evidence;
  if (e === null || e === undefined) return null;
  if (typeof e !== 'object') return <pre class="evidence">{String(e)}</pre>;
  const ev = e as { reason?: string; summary?: string; decisive_line?: string; tests?: { name: string; location?: string; message: string[] }[]; findings?: { reviewer: string; severity: string; file: string; line?: number | null; title: string }[]; log_tail?: string };
  return (
    <div class="evidence">
      <div>
        <b>{ev.reason}</b> {ev.summary}
      </div>
      {ev.decisive_line ? <pre>{ev.decisive_line}</pre> : null}
      {ev.tests?.length ? <ul>{ev.tests.map((t) => <li key={t.name}>{t.name} {t.location ? <code>{t.location}</code> : null}<pre>{t.message.join('\n')}</pre></li>)}</ul> : null}
      {ev.findings?.length ? <ul>{ev.findings.map((f, i) => <li key={i}><code>{f.file}{f.line ? `:${f.line}` : ''}</code> [{f.severity}] {f.title} <span class="dim">({f.reviewer})</span></li>)}</ul> : null}
      {ev.log_tail && !ev.tests?.length ? <details><summary>log tail</summary><pre>{ev.log_tail}</pre></details> : null}
    </div>
  );
}

/** A fan-out's candidates side by side: what the ranking read, why one won, and a way to prefer another. */
function Candidates(props: { page: TaskPage; onError: (m: string) => void; onPicked: () => void }) {
  const { page } = props;
  const [busy, setBusy] = useState(false);
  const open = page.task.state === 'ready' || page.task.state === 'needs_help' || page.task.state === 'fanout';
  const pick = async (id: number): Promise<void> => {
    setBusy(true);
    try {
      await call('POST', `/api/v1/tasks/${page.task.id}/pick`, { candidate: id });
      props.onPicked();
    } catch (err) {
      props.onError(`Task ${page.task.id}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const money = (x: number | null): string => (x === null ? '–' : `$${x.toFixed(2)}`);
  const findings = (f: TaskPage['candidates'][number]['findings']): string => (['critical', 'major', 'minor', 'nit'] as const).filter((k) => f[k]).map((k) => `${f[k]} ${k}`).join(', ') || 'none';
  return (
    <section class="candidates">
      <h2>Candidates <span class="dim">({page.candidates.length}; <code>swarm merge {page.task.id}</code> merges the chosen one)</span></h2>
      <table>
        <thead>
          <tr><th>candidate</th><th>state</th><th>reviews</th><th>open findings</th><th>diff</th><th>tests</th><th>retries</th><th>time</th><th>cost</th><th>verdict</th><th></th></tr>
        </thead>
        <tbody>
          {page.candidates.map((c) => (
            <tr key={c.id} data-candidate={c.id} class={c.chosen ? 'chosen' : ''}>
              <td>
                <a href={`/tasks/${c.id}`} onClick={(e) => (e.preventDefault(), navigate(`/tasks/${c.id}`))}>#{c.id} {c.agent}{c.model ? `:${c.model}` : ''}</a>
                {c.chosen ? <b> ★ chosen</b> : null}
              </td>
              <td><span class={`badge state-${c.state}`}>{c.state}</span>{c.green ? ' CI green' : ''}</td>
              <td>{c.reviewers ? `${c.approvals ?? 0}/${c.reviewers}` : '–'}</td>
              <td>{findings(c.findings)}</td>
              <td>{c.diff ? `+${c.diff.added}/−${c.diff.removed} in ${c.diff.files}` : '–'}</td>
              <td>{c.tests_changed || '–'}</td>
              <td>{c.retries}</td>
              <td>{c.duration_ms === null ? '–' : c.duration_ms < 60_000 ? `${Math.round(c.duration_ms / 1000)} s` : `${Math.round(c.duration_ms / 60_000)} min`}</td>
              <td>{money(c.cost_usd)}</td>
              <td class="dim">{c.verdict ?? ''}</td>
              <td>{open && c.green && !c.chosen ? <button class="act pick" data-action="pick" disabled={busy} onClick={() => void pick(c.id)}>pick</button> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function TaskView(props: { id: number; card: Card | undefined; now: number; onError: (m: string) => void }) {
  const [page, setPage] = useState<TaskPage | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [picked, setPicked] = useState(0);
  // The card changes live (SSE); the page is read again when it does.
  const version = props.card ? `${props.card.state}:${props.card.attempt}:${props.card.session?.id ?? ''}:${props.card.review?.approvals ?? ''}:${props.card.ci ?? ''}` : '';
  useEffect(() => {
    let gone = false;
    call<TaskPage>('GET', `/api/v1/tasks/${props.id}`)
      .then((p) => !gone && (setPage(p), setMissing(null)))
      .catch((err: Error) => !gone && setMissing(err.message));
    return () => void (gone = true);
  }, [props.id, version, picked]);
  if (missing && !page) return <main class="task-page"><p class="error">{missing}</p></main>;
  if (!page) return <main class="task-page"><p class="dim">Loading task {props.id}…</p></main>;
  const card = props.card ?? page.card;
  const { task } = page;
  const reviews = page.attempts.filter((a) => a.kind === 'review');
  return (
    <main class="task-page" data-task={task.id} data-state={card.state}>
      <h1>
        <span class="id">#{task.id}</span> {task.title}
      </h1>
      <div class="summary">
        <span class={`badge state-${card.state}`}>{card.state}</span> <Badges card={card} />
        <span>{task.agent}{task.model ? ` · ${task.model}` : ''}</span>
        <span>attempt {task.attempt} · retries {task.retries}/{task.max_retries}</span>
        <span>{elapsed(card, props.now)}</span>
        {page.pr?.url ? <a href={page.pr.url} target="_blank" rel="noreferrer">PR #{page.pr.number}</a> : page.pr ? <span>PR #{page.pr.number} ({page.pr.state}, local)</span> : null}
      </div>
      {/* Its own bar: on a phone it stays at the bottom of the screen, within a thumb's reach, however far one scrolls. */}
      <div class="task-actions">
        <Actions card={card} onError={props.onError} />
      </div>
      {task.reason ? <p class="reason">{task.reason}</p> : null}
      {page.fanout_of ? <p class="dim">A candidate of fan-out <a href={`/tasks/${page.fanout_of.id}`} onClick={(e) => (e.preventDefault(), navigate(`/tasks/${page.fanout_of!.id}`))}>#{page.fanout_of.id}</a> ({page.fanout_of.state}).</p> : null}
      {page.candidates.length ? <Candidates page={page} onError={props.onError} onPicked={() => setPicked((n) => n + 1)} /> : null}
      {card.session ? (
        <section>
          <h2>Live: {card.session.name} <span class="dim">(type into it; leaving the page keeps it running)</span></h2>
          <LiveTerminal key={card.session.id} session={card.session.id} focused />
        </section>
      ) : null}
      <section>
        <h2>Prompt</h2>
        <pre class="prompt">{task.prompt}</pre>
        {task.fanout_size ? null : <div class="dim">branch <code>{task.branch}</code> from <code>{task.base}</code>{task.verified_sha ? <> · verified <code>{task.verified_sha.slice(0, 12)}</code></> : null}</div>}
      </section>
      {page.depends_on.length || page.dependents.length ? (
        <section class="dag">
          <h2>Plan</h2>
          {page.depends_on.length ? <div>after <ul>{page.depends_on.map((n) => <Link key={n.id} {...n} />)}</ul></div> : null}
          {page.dependents.length ? <div>before <ul>{page.dependents.map((n) => <Link key={n.id} {...n} />)}</ul></div> : null}
        </section>
      ) : null}
      {task.fanout_size ? null : <section>
        <h2>Attempts</h2>
        <ol class="attempts">
          {page.attempts.filter((a) => a.kind !== 'review').map((a) => (
            <li key={a.id} data-kind={a.kind}>
              <b>{a.kind === 'ci' ? 'CI' : a.agent}</b> attempt {a.n} · {a.outcome ?? (a.live ? 'running' : 'ended')}
              {a.exit_code !== null ? ` (exit ${a.exit_code})` : ''} <span class="dim">{time(a.started_at)}</span>
              <Evidence evidence={a.evidence} />
            </li>
          ))}
        </ol>
      </section>}
      {reviews.length ? (
        <section class="reviews">
          <h2>Reviews</h2>
          {reviews.map((a) => (
            <div key={a.id} class="review">
              <b>{a.agent}</b> on attempt {a.n}{a.head_sha ? ` (${a.head_sha.slice(0, 10)})` : ''}: {a.review ? a.review.verdict : a.ended_at === null ? 'reviewing…' : a.outcome === 'stopped' ? `stopped (${String(a.evidence ?? 'the round ended')})` : a.outcome === 'timed_out' ? `timed out (${String(a.evidence ?? '')})` : `failed (${String(a.evidence ?? 'unusable answer')})`}
              {a.review?.summary ? <p>{a.review.summary}</p> : null}
              <ul>{a.review?.findings.map((f, i) => <li key={i}><code>{f.file}{f.line ? `:${f.line}` : ''}</code> [{f.severity}] {f.title}{f.body ? <p class="dim">{f.body}</p> : null}</li>)}</ul>
            </div>
          ))}
        </section>
      ) : null}
      {page.ci_log ? (
        <section>
          <h2>CI log</h2>
          <pre class="ci-log">{page.ci_log}</pre>
        </section>
      ) : null}
      {task.fanout_size ? null : <section>
        <h2>Diff against {task.base}</h2>
        {page.diff ? <div class="diff" dangerouslySetInnerHTML={{ __html: diffHtml(page.diff, { drawFileList: true, outputFormat: 'line-by-line', matching: 'none', colorScheme: DARK }) }} /> : <p class="dim">No commits on {task.branch} yet.</p>}
        {page.diff_truncated ? <p class="dim">The diff is cut at 400 KB; see it in git.</p> : null}
      </section>}
      {page.screenshots.length ? (
        <section>
          <h2>Screenshots</h2>
          <ul>{page.screenshots.map((s) => <li key={s}><code>{s}</code></li>)}</ul>
        </section>
      ) : null}
      <section>
        <h2>Events</h2>
        <ol class="events">
          {page.events.map((e) => (
            <li key={e.id}>
              <span class="dim">{time(e.at)}</span> <b>{e.kind}</b> {e.from_state !== e.to_state ? `${e.from_state ?? ''} → ${e.to_state ?? ''}` : ''}
            </li>
          ))}
        </ol>
      </section>
    </main>
  );
}

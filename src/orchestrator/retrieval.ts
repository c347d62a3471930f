/** Pure retrieval: BM25 over note chunks, packed greedily into a token budget. No I/O. */

export interface Note {
  name: string;
  text: string;
}

export interface Chunk {
  note: string;
  heading: string;
  text: string;
}

export interface Picked extends Chunk {
  score: number;
}

const STOP = new Set('a an and are as at be by for from has have in is it its of on or that the this to was were will with we you our they not but if then so do does did can'.split(' '));

export function tokenize(text: string): string[] {
  return (text.toLowerCase().normalize('NFKD').match(/[a-z0-9]+/g) ?? []).filter((t) => t.length > 1 && !STOP.has(t)).map(stem);
}

/** A light stemmer: plurals and common suffixes, enough for "refunds" to meet "refund". */
function stem(token: string): string {
  return token.replace(/(ies)$/, 'y').replace(/(ing|ed|es|s)$/, (m, _g, offset: number) => (offset > 3 ? '' : m));
}

/** Roughly four characters a token: good enough to respect a budget without a tokenizer. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Notes split at markdown headings, and long sections at blank lines, so a budget buys the relevant part only. */
export function chunkNotes(notes: readonly Note[], maxChars = 1_500): Chunk[] {
  const chunks: Chunk[] = [];
  for (const note of notes) {
    let heading = note.name;
    let buffer: string[] = [];
    const flush = (): void => {
      const text = buffer.join('\n').trim();
      if (text) {
        for (let i = 0; i < text.length; i += maxChars) chunks.push({ note: note.name, heading, text: text.slice(i, i + maxChars) });
      }
      buffer = [];
    };
    for (const line of note.text.split('\n')) {
      const match = /^#{1,6}\s+(.*)$/.exec(line);
      if (match) {
        flush();
        heading = match[1]!.trim();
      }
      buffer.push(line);
    }
    flush();
  }
  return chunks;
}

export function bm25(chunks: readonly Chunk[], query: string, k1 = 1.2, b = 0.75): number[] {
  const docs = chunks.map((c) => tokenize(`${c.heading} ${c.text}`));
  const avg = docs.reduce((sum, d) => sum + d.length, 0) / Math.max(1, docs.length);
  const df = new Map<string, number>();
  for (const doc of docs) for (const term of new Set(doc)) df.set(term, (df.get(term) ?? 0) + 1);
  const terms = [...new Set(tokenize(query))];
  return docs.map((doc) => {
    const tf = new Map<string, number>();
    for (const t of doc) tf.set(t, (tf.get(t) ?? 0) + 1);
    let score = 0;
    for (const term of terms) {
      const f = tf.get(term) ?? 0;
      if (f === 0) continue;
      const n = df.get(term) ?? 0;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * doc.length) / avg));
    }
    return score;
  });
}

/** The chunks that matter to `query`, best first, within `budgetTokens`; nothing that scores zero. */
export function pickContext(notes: readonly Note[], query: string, budgetTokens: number): Picked[] {
  const chunks = chunkNotes(notes);
  const scores = bm25(chunks, query);
  const ranked = chunks.map((c, i) => ({ ...c, score: scores[i]! })).filter((c) => c.score > 0).sort((a, b) => b.score - a.score);
  const picked: Picked[] = [];
  let used = 0;
  for (const chunk of ranked) {
    const cost = estimateTokens(chunk.text) + 10;
    if (used + cost > budgetTokens) continue;
    picked.push(chunk);
    used += cost;
  }
  return picked;
}

export function renderContext(picked: readonly Picked[]): string {
  if (picked.length === 0) return '';
  return picked.map((p) => `### ${p.note} — ${p.heading}\n${p.text.replace(/^#{1,6}\s+.*\n?/, '').trim()}`).join('\n\n');
}

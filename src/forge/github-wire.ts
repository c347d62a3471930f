/** GitHub's wire formats as swarm reads them (REST and GraphQL, checked with zod), and what a commit's checks say. */
import * as z from 'zod';

export const RollupContext = z.discriminatedUnion('__typename', [
  z.object({ __typename: z.literal('CheckRun'), databaseId: z.number().nullable(), name: z.string(), status: z.string(), conclusion: z.string().nullable(), detailsUrl: z.string().nullable().optional() }),
  z.object({ __typename: z.literal('StatusContext'), context: z.string(), state: z.string(), description: z.string().nullable().optional(), targetUrl: z.string().nullable().optional() }),
]);

export const PullNode = z.object({
  id: z.string(),
  number: z.number(),
  state: z.enum(['OPEN', 'CLOSED', 'MERGED']),
  merged: z.boolean(),
  headRefOid: z.string(),
  mergeable: z.enum(['MERGEABLE', 'CONFLICTING', 'UNKNOWN']),
  mergeStateStatus: z.string().optional(),
  reviewDecision: z.enum(['APPROVED', 'CHANGES_REQUESTED', 'REVIEW_REQUIRED']).nullable(),
  commits: z.object({
    nodes: z.array(z.object({ commit: z.object({ oid: z.string(), statusCheckRollup: z.object({ state: z.string(), contexts: z.object({ nodes: z.array(RollupContext) }) }).nullable() }) })),
  }),
});
export type PullNode = z.infer<typeof PullNode>;

export const GraphResponse = z.object({
  rateLimit: z.object({ cost: z.number(), remaining: z.number(), resetAt: z.string() }).nullable().optional(),
  nodes: z.array(PullNode.nullable()),
});

export const PULLS_QUERY = `query SwarmPulls($ids: [ID!]!) {
  rateLimit { cost remaining resetAt }
  nodes(ids: $ids) {
    ... on PullRequest {
      id number state merged headRefOid mergeable mergeStateStatus reviewDecision
      commits(last: 1) { nodes { commit { oid statusCheckRollup { state contexts(first: 100) { nodes {
        __typename
        ... on CheckRun { databaseId name status conclusion detailsUrl }
        ... on StatusContext { context state description targetUrl }
      } } } } } }
    }
  }
}`;


export const WorkflowRun = z.object({ id: z.number(), head_sha: z.string(), status: z.string().nullable(), conclusion: z.string().nullable(), updated_at: z.string() });
export const PullListItem = z.object({ number: z.number(), node_id: z.string(), updated_at: z.string(), state: z.string(), head: z.object({ sha: z.string() }) });
export const CreatedPull = z.object({ number: z.number(), node_id: z.string(), html_url: z.string(), head: z.object({ sha: z.string() }) });
export const Job = z.object({ id: z.number(), name: z.string().optional(), steps: z.array(z.object({ name: z.string(), conclusion: z.string().nullable() })).optional() });
export const Review = z.object({ id: z.number().optional(), state: z.string(), body: z.string().nullable(), user: z.object({ login: z.string() }).nullable(), commit_id: z.string().nullable().optional(), submitted_at: z.string().nullable().optional() });
export const ReviewComment = z.object({ path: z.string(), line: z.number().nullable().optional(), original_line: z.number().nullable().optional(), body: z.string(), user: z.object({ login: z.string() }).nullable() });
export const Repo = z.object({ full_name: z.string(), permissions: z.object({ push: z.boolean().optional() }).optional() });
export const User = z.object({ login: z.string() });

export type RollupContext = z.infer<typeof RollupContext>;

/** GitHub's check conclusions: red (evidence for the agent), did not finish (re-run, never evidence), or fine. */
const RED_CONCLUSIONS = new Set(['FAILURE', 'TIMED_OUT', 'ACTION_REQUIRED']);
const UNFINISHED_CONCLUSIONS = new Set(['CANCELLED', 'STALE', 'STARTUP_FAILURE']);

export type ChecksVerdict = { kind: 'failed'; context: RollupContext } | { kind: 'unfinished'; context: RollupContext; conclusion: string } | { kind: 'pending' } | { kind: 'passed' };

/** Pure: what a commit's checks say. Neutral and skipped pass, as they do for branch protection. */
export function checksVerdict(contexts: readonly RollupContext[]): ChecksVerdict {
  const red = contexts.find((c) => (c.__typename === 'CheckRun' ? c.status === 'COMPLETED' && RED_CONCLUSIONS.has(c.conclusion ?? '') : c.state === 'FAILURE' || c.state === 'ERROR'));
  if (red) return { kind: 'failed', context: red };
  const unfinished = contexts.find((c) => c.__typename === 'CheckRun' && c.status === 'COMPLETED' && UNFINISHED_CONCLUSIONS.has(c.conclusion ?? ''));
  if (unfinished && unfinished.__typename === 'CheckRun') return { kind: 'unfinished', context: unfinished, conclusion: (unfinished.conclusion ?? '').toLowerCase() };
  const pending = contexts.length === 0 || contexts.some((c) => (c.__typename === 'CheckRun' ? c.status !== 'COMPLETED' : c.state === 'PENDING' || c.state === 'EXPECTED'));
  return pending ? { kind: 'pending' } : { kind: 'passed' };
}

/** /api/openapi.json, generated from the route table and its zod schemas (z.toJSONSchema). */
import * as z from 'zod';
import { VERSION } from '../version.js';
import { LiveEvent, TerminalFrame, TerminalInput, ApiError } from './schemas.js';
import type { Route } from './routes.js';

/** Named schemas (`.meta({ id })`) land in `components` once, and every operation refers to them. */
function schema(components: Record<string, unknown>, type: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const generated = z.toJSONSchema(type, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  const text = JSON.stringify(generated).replaceAll('"#/definitions/', '"#/components/schemas/').replaceAll('"#/$defs/', '"#/components/schemas/');
  const { $schema: _drop, definitions, $defs, ...rest } = JSON.parse(text) as Record<string, unknown>;
  Object.assign(components, definitions ?? {}, $defs ?? {});
  return rest;
}

export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const json = (type: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: schema(components, type, io) } });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      summary: route.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(route.body ? { requestBody: { required: false, content: json(route.body, 'input') } } : {}),
      responses: {
        [String(route.status ?? 200)]: { description: 'OK', content: json(route.response, 'output') },
        default: { description: 'What went wrong, in words, and what to do', content: json(ApiError, 'output') },
      },
      ...(route.bearerOnly ? { security: [{ bearer: [] }] } : {}),
    };
  }
  paths['/api/v1/events'] = {
    get: {
      summary: 'Live board: server-sent events, each `data:` one LiveEvent as JSON (a snapshot first, then changes).',
      responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: schema(components, LiveEvent, 'output') } } } },
    },
  };
  paths['/api/v1/sessions/{session}/terminal'] = {
    get: {
      summary: 'A live terminal over WebSocket: the server sends the current screen as a TerminalFrame text frame, then output as binary frames (the terminal output as UTF-8 bytes), then the exit; the client sends TerminalInput JSON. Closing never ends the agent.',
      parameters: [{ name: 'session', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        101: { description: 'WebSocket upgrade', content: { 'application/json': { schema: { oneOf: [schema(components, TerminalFrame, 'output'), schema(components, TerminalInput, 'input')] } } } },
      },
    },
  };
  return {
    openapi: '3.0.3',
    info: { title: 'worktree-swarm daemon API', version: VERSION, description: 'The API the swarm CLI and dashboard use. Loopback only unless dashboard.host says otherwise. Auth: the bearer token in .swarm/daemon.json, or the dashboard cookie.' },
    servers: [{ url: '/' }],
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, cookie: { type: 'apiKey', in: 'cookie', name: 'swarm_session' } } },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
  };
}

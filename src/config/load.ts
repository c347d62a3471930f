import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as z from 'zod';
import { ConfigError } from '../errors.js';
import { SwarmConfig } from './schema.js';

export const CONFIG_FILE = 'swarm.config.json';

/** One line per problem, each naming the field: `agents.fixer.command: needs at least the program name`. */
export function formatIssues(file: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(top level)';
    // A bad record key hides the useful message one level down.
    const message = issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;
    return `  ${path}: ${message}`;
  });
  return `${file} is invalid:\n${lines.join('\n')}\nFix the field(s) above; \`swarm init --force\` writes a fresh example.`;
}

export function parseConfig(file: string, raw: unknown): SwarmConfig {
  const result = SwarmConfig.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(file, result.error));
  const config = result.data;
  if (config.default_agent !== undefined && !(config.default_agent in config.agents)) {
    throw new ConfigError(
      `${file} is invalid:\n  default_agent: "${config.default_agent}" is not one of agents (${Object.keys(config.agents).join(', ') || 'none defined'}).`,
    );
  }
  return config;
}

export function loadConfig(repoRoot: string): SwarmConfig {
  const file = join(repoRoot, CONFIG_FILE);
  if (!existsSync(file)) {
    throw new ConfigError(`No ${CONFIG_FILE} in ${repoRoot}. Run \`swarm init\` to write one.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseConfig(file, raw);
}

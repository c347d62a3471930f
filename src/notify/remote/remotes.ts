/**
 * The chat services the daemon both sends to and listens on (Telegram, a Slack app): each is a notification
 * channel plus a listener that starts after the daemon listens and stops first. Slack's SDK is loaded only
 * when Slack is configured (it costs a daemon start ~0.1 s); its tokens are checked at once all the same, so
 * a missing one stops `swarm daemon run` with the fix.
 */
import type { Logger } from 'pino';
import type { Project } from '../../config/project.js';
import type { SlackConfig } from '../../config/schema.js';
import { ConfigError, errorMessage } from '../../errors.js';
import type { NotifyChannel } from '../channel.js';
import { TelegramBot } from '../telegram/bot.js';

export interface Remote {
  channel(): NotifyChannel;
  start(): void;
  stop(): Promise<void>;
}

export interface SlackTokens {
  bot: string;
  app: string;
}

export function slackTokens(config: SlackConfig, env: NodeJS.ProcessEnv): SlackTokens {
  const bot = env[config.bot_token_env];
  const app = env[config.app_token_env];
  if (!bot) throw new ConfigError(`notify.slack needs the bot token (xoxb-…) in the environment variable ${config.bot_token_env}: your Slack app's "OAuth & Permissions" page, after installing it to the workspace. Set it where the daemon starts, or use notify.slack.webhook_url_env for one-way messages.`);
  if (!app) throw new ConfigError(`notify.slack needs the app-level token (xapp-…, scope connections:write) in the environment variable ${config.app_token_env}: your Slack app's "Basic Information" page, with Socket Mode turned on. Set it where the daemon starts.`);
  return { bot, app };
}

export function remotesFromConfig(project: Project, log: Logger, kick: () => void, env: NodeJS.ProcessEnv = process.env): Remote[] {
  const remotes: Remote[] = [];
  const { telegram, slack } = project.config.notify;
  if (telegram) remotes.push(new TelegramBot(project, telegram, log, kick, env));
  if (slack && slack.channels.length) {
    const tokens = slackTokens(slack, env);
    let loaded: Promise<import('../slack/app.js').SlackApp> | null = null;
    const app = (): Promise<import('../slack/app.js').SlackApp> => (loaded ??= import('../slack/app.js').then((m) => new m.SlackApp(project, slack, log, kick, tokens)));
    remotes.push({
      channel: () => ({ name: 'slack', send: async (n) => (await app()).channel().send(n) }),
      start: () => void app().then((a) => a.start(), (err: unknown) => log.error({ error: errorMessage(err) }, 'slack: could not load the Slack SDK')),
      stop: async () => {
        if (loaded) await (await loaded).stop();
      },
    });
  }
  return remotes;
}

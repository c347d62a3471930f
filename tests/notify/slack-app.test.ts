import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { openProject, type Project } from '../../src/config/project.js';
import { spawnTask } from '../../src/cli/tasks.js';
import { SlackApp } from '../../src/notify/slack/app.js';
import { startFakeSlack, type FakeSlack } from '../../scripts/fake-slack.js';
import { agentCommand, sandbox, writeConfig, type Sandbox } from '../helpers/sample.js';

/** The Slack app as a notification channel, against the loopback Slack: what a task's messages become. */
describe('the Slack app as a channel', () => {
  let box: Sandbox;
  let slack: FakeSlack;
  let project: Project;
  beforeEach(async () => {
    box = sandbox('slackapp');
    slack = await startFakeSlack();
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs') } }, default_agent: 'right', notify: { desktop: false, slack: { channels: ['C0SWARM', 'C0TEAM'], api_url: slack.apiUrl } } });
    project = await openProject(box.repo);
  });
  afterEach(async () => {
    project.registry.close();
    await slack.close();
    box.cleanup();
  });

  const app = (): SlackApp => new SlackApp(project, project.config.notify.slack!, silentLogger(), () => {}, { bot: slack.botToken, app: slack.appToken });

  it('posts to each channel with the screenshot in the thread; a resend after a crash posts nothing; a later event edits the message in place', async () => {
    const task = await spawnTask(project, { prompt: 'Fix addNumbers' });
    const shot = join(box.dir, 'desktop.png');
    writeFileSync(shot, Buffer.alloc(4096, 1));
    const channel = app().channel();
    const first = { key: 'k1', task_id: task.id, event: 'needs_help', title: `Task ${task.id} needs help`, body: 'CI failed: 1 test', click_url: null, attachments: [shot, join(box.dir, 'gone.png')] };
    await channel.send(first);
    expect(slack.messages.map((m) => [m.channel, m.text.split('\n')[0], m.buttons.flat().map((b) => b.text)])).toEqual([
      ['C0SWARM', `Task ${task.id} needs help`, ['Retry', 'Show', 'Kill']],
      ['C0TEAM', `Task ${task.id} needs help`, ['Retry', 'Show', 'Kill']],
    ]);
    expect(slack.files).toEqual([
      { channel: 'C0SWARM', thread_ts: slack.messages[0]!.ts, title: `Task ${task.id}: desktop.png`, bytes: 4096 },
      { channel: 'C0TEAM', thread_ts: slack.messages[1]!.ts, title: `Task ${task.id}: desktop.png`, bytes: 4096 },
    ]);

    // A new app (the daemon restarted) knows what it sent: the same notification again posts nothing.
    await app().channel().send(first);
    expect(slack.messages).toHaveLength(2);

    await channel.send({ key: 'k2', task_id: task.id, event: 'review_verdict', title: `Task ${task.id}: review`, body: 'codex: 1 finding', click_url: null });
    expect(slack.messages).toHaveLength(2);
    expect(slack.messages.map((m) => m.edits)).toEqual([[`Task ${task.id}: review\n\ncodex: 1 finding`], [`Task ${task.id}: review\n\ncodex: 1 finding`]]);
    expect(slack.messages[0]!.buttons.flat().map((b) => b.text)).toEqual(['Show']);
  });

  it('a channel Slack does not know fails the send with Slack\'s word for it, and no token', async () => {
    const task = await spawnTask(project, { prompt: 'Fix addNumbers' });
    slack.failNext('chat.postMessage', 1, { error: 'channel_not_found' });
    const sending = app().channel().send({ key: 'k1', task_id: task.id, event: 'ready', title: `Task ${task.id} ready`, body: '', click_url: null });
    await expect(sending).rejects.toThrow(/channel_not_found/);
    await sending.catch((err: Error) => expect(err.message).not.toContain(slack.botToken));
  });
});

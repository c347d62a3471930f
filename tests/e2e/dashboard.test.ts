import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { DESKTOP, launchBrowser, PHONE, screenshotPath } from '../helpers/browser.js';

async function signIn(box: Sandbox, page: Page): Promise<string> {
  const result = await swarm(box.repo, ['dashboard', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const { url } = JSON.parse(result.stdout) as { url: string };
  await page.goto(url);
  await page.waitForSelector('nav.top .status[data-connected="true"]');
  return new URL(url).origin;
}

const card = (page: Page, id: number) => page.locator(`.card[data-task="${id}"]`);
const inColumn = (page: Page, id: number, column: string) => page.locator(`.column[data-column="${column}"] .card[data-task="${id}"]`).waitFor({ timeout: 60_000 });

async function spawnFromUi(page: Page, prompt: string, agent: string): Promise<number> {
  const before = await page.locator('.card').count();
  await page.getByRole('button', { name: 'New task' }).click();
  await page.fill('.spawn textarea[name=prompt]', prompt);
  await page.selectOption('.spawn select[name=agent]', agent);
  await page.click('.spawn button[type=submit]');
  await page.waitForFunction((n) => document.querySelectorAll('.card').length > n, before);
  return Number(await page.locator('.card').first().getAttribute('data-task'));
}

describe('dashboard (real daemon, real Chromium)', () => {
  let browser: Browser;
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(() => {
    box = sandbox('dashboard');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('spawn from the board, watch the card move, type into the live terminal, merge from the UI; screenshots at desktop and phone width', async () => {
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs') } }, ci: { command: SAMPLE_CI } });
    daemon = await runDaemon(box);
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(box, page);

    const id = await spawnFromUi(page, 'Talk to me, then fix addNumbers', 'talk');
    await inColumn(page, id, 'running');
    await card(page, id).locator('.last-line', { hasText: 'ready for input' }).waitFor();

    // The task page, where a user goes first: its terminal is readable and takes typing.
    await card(page, id).click();
    const pageTerm = page.locator(`.task-page[data-task="${id}"] .term`);
    await pageTerm.locator('.xterm-rows', { hasText: 'interactive: ready for input' }).waitFor();
    const fontPx = await pageTerm.locator('.xterm-rows').evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize));
    expect(fontPx).toBeGreaterThanOrEqual(12);
    await pageTerm.click();
    await page.keyboard.type('hello from the task page\n');
    await pageTerm.locator('.xterm-rows', { hasText: 'interactive: got hello from the task page' }).waitFor();

    // The sessions grid: the live terminal, then focus it and type as at a keyboard.
    await page.click('nav.top a[href="/grid"]');
    const tile = page.locator(`.tile[data-task="${id}"]`);
    await tile.locator('.xterm-rows', { hasText: 'interactive: ready for input' }).waitFor();
    await page.screenshot({ path: screenshotPath('grid-desktop'), fullPage: true });
    await tile.click();
    const focused = page.locator('.term.focused');
    await focused.locator('.xterm-rows', { hasText: 'ready for input' }).waitFor();
    await page.keyboard.type('hello from the browser\n');
    await focused.locator('.xterm-rows', { hasText: 'interactive: got hello from the browser' }).waitFor();
    // Leaving the terminal never ends the agent.
    await page.click('button[data-action="leave"]');
    await tile.waitFor();
    expect(openRegistry(box).getTask(id)?.state).toBe('running');
    await tile.click();
    // Typed only once the terminal is open again (its screen shown): keys pressed before that go to the page.
    await focused.locator('.xterm-rows', { hasText: 'got hello from the browser' }).waitFor();
    await page.keyboard.type('finish\n');

    await page.click('nav.top a[href="/"]');
    await inColumn(page, id, 'ready');
    await expect.poll(() => card(page, id).locator('.badge.ci-passed').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('board-desktop'), fullPage: true });

    await card(page, id).click();
    await page.locator(`.task-page[data-task="${id}"] .diff`, { hasText: 'a + b' }).waitFor();
    await page.locator('.task-page .ci-log').waitFor();
    await page.locator('.task-page .events li', { hasText: 'ready' }).first().waitFor();
    await page.screenshot({ path: screenshotPath('task-desktop'), fullPage: true });

    // The diff is in the page's dark scheme, not a white block.
    const diffBg = await page.locator('.task-page .d2h-file-wrapper').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(diffBg).not.toBe('rgb(255, 255, 255)');

    // Phone width: the same board and task page, merge with a thumb — in view wherever the page is scrolled.
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: screenshotPath('task-phone'), fullPage: true });
    for (const to of ['top', 'bottom'] as const) {
      await page.evaluate((where) => window.scrollTo(0, where === 'top' ? 0 : document.body.scrollHeight), to);
      const box = await page.locator('.task-page button[data-action="merge"]').boundingBox();
      expect(box, `merge at the ${to}`).not.toBeNull();
      expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height);
      expect(box!.y).toBeGreaterThanOrEqual(PHONE.height / 2);
    }
    await page.click(`.task-page button[data-action="merge"]`);
    await page.locator(`.task-page[data-task="${id}"][data-state="done"]`).waitFor({ timeout: 30_000 });
    expect(openRegistry(box).getTask(id)?.state).toBe('done');
    await page.click('nav.top a[href="/"]');
    await page.click('.tabs button[data-tab="done"]');
    await inColumn(page, id, 'done');
    await page.screenshot({ path: screenshotPath('board-phone'), fullPage: true });
    await page.click('nav.top a[href="/grid"]');
    await page.screenshot({ path: screenshotPath('grid-phone'), fullPage: true });
    await context.close();
  });

  it('kill, retry and approve from the UI; the page reconnects after a daemon restart and shows the screen as it is now', async () => {
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs') } }, ci: { command: SAMPLE_CI } });
    daemon = await runDaemon(box);
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(box, page);
    const id = await spawnFromUi(page, 'Wait for me', 'talk');
    await inColumn(page, id, 'running');

    await card(page, id).locator('button[data-action="kill"]').click();
    await inColumn(page, id, 'done');
    expect(openRegistry(box).getTask(id)?.state).toBe('cancelled');
    await card(page, id).locator('button[data-action="retry"]').click();
    await inColumn(page, id, 'running');
    await waitForState(box, id, 'running');

    // A task discovery proposed (written by another process) shows up live and is approved from its card.
    const proposing = openRegistry(box);
    const proposed = proposing.createTask({ title: 'Proposed by discovery', prompt: 'Talk to me', agent: 'talk', base: 'main', branch: 'swarm/{id}-proposed', worktree: `${box.worktrees}/{id}-proposed`, max_retries: 3, state: 'proposed', source_key: 'test:1' });
    proposing.close();
    await inColumn(page, proposed.id, 'queued');
    await card(page, proposed.id).locator('button[data-action="approve"]').click();
    await inColumn(page, proposed.id, 'running');
    await card(page, proposed.id).locator('button[data-action="kill"]').click();
    await inColumn(page, proposed.id, 'done');

    await card(page, id).click();
    const term = page.locator('.task-page .term');
    await term.locator('.xterm-rows', { hasText: 'ready for input' }).waitFor();

    // The daemon dies; the agent lives on in its session. Someone types into it meanwhile (swarm attach's path).
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = null;
    await page.waitForSelector('nav.top .status[data-connected="false"]');
    const registry = openRegistry(box);
    const attempt = registry.latestAttempt(id, 'agent')!;
    registry.close();
    const { connectSession, readSessionState } = await import('../../src/sessions/sessions.js');
    const connection = await connectSession(readSessionState(attempt.session_dir)!, { onMessage: () => undefined });
    connection.send({ t: 'input', data: 'typed while the daemon was down\r' });
    connection.close();

    daemon = await runDaemon(box);
    await page.waitForSelector('nav.top .status[data-connected="true"]', { timeout: 30_000 });
    await term.locator('.xterm-rows', { hasText: 'got typed while the daemon was down' }).waitFor({ timeout: 30_000 });
    await context.close();
  });
  it('a fan-out\'s page shows its candidates side by side; pick another, then merge it from the page', async () => {
    const env = (style: string) => ({ FANOUT_STYLE: style, AGENT_RECORD_DIR: box.records });
    writeConfig(box, { agents: { careful: { command: agentCommand('fanout-agent.mjs'), env: env('careful') }, huge: { command: agentCommand('fanout-agent.mjs'), env: env('huge') } }, ci: { command: SAMPLE_CI }, max_retries: 0 });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--agents', 'careful,huge', 'Fix addNumbers']);
    const { id, candidates } = JSON.parse(spawned.stdout) as { id: number; candidates: { id: number }[] };
    await waitForState(box, id, 'ready', 90_000);
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(box, page);
    await card(page, id).click();
    const row = (candidate: number) => page.locator(`.candidates tr[data-candidate="${candidate}"]`);
    await row(candidates[0]!.id).locator('text=chosen').waitFor();
    await expect.poll(() => row(candidates[0]!.id).textContent()).toContain('won on tests');
    expect(await row(candidates[1]!.id).textContent()).toMatch(/\+\d{3}\/−\d+ in 9/);
    await page.screenshot({ path: screenshotPath('fanout-desktop'), fullPage: true });

    await row(candidates[1]!.id).locator('button[data-action="pick"]').click();
    await row(candidates[1]!.id).locator('text=chosen').waitFor();
    expect(openRegistry(box).getTask(id)!.chosen).toBe(candidates[1]!.id);
    await page.locator('.task-actions button[data-action="merge"]').click();
    await waitForState(box, id, 'done');
    const registry = openRegistry(box);
    expect(registry.getTask(candidates[1]!.id)!.state).toBe('done');
    expect(registry.getTask(candidates[0]!.id)!.state).toBe('cancelled');
    expect(JSON.parse(registry.events(id).find((e) => e.kind === 'picked')!.data!)).toMatchObject({ by: 'dashboard' });
    registry.close();
    await context.close();
  });
});

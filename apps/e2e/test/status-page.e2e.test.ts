import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchChromium } from '../src/browser';
import { episode, SECRET, startStack, type Stack } from './support/stack';

// The status page as an operator uses it: `strm-proxy status-url` prints a link, Chromium opens
// it while an episode plays through a slow CDN and after another one failed, and the page keeps
// itself current. The screenshot goes to test-results/ (a CI artifact); with
// UPDATE_DOCS_SCREENSHOT=1 a small copy replaces docs/status-page.png for the README.
const REPO = join(import.meta.dirname, '..', '..', '..');
const RESULTS = join(import.meta.dirname, '..', 'test-results');
const MiB = 1024 * 1024;

const episodes = {
  // 256 MiB at 512 KiB/s: still playing long after the test is done with it.
  playing: episode('frieren', 3, `big/${256 * MiB}.bin`, { faults: { bytesPerSecond: 512 * 1024 } }),
  // Every request under its tokens gets 403: the refresh gets 403 again, the viewer a 403.
  revoked: episode('dandadan', 7, 'mp4-faststart/video.mp4', { faults: { failFirst: { count: 100, status: 403 } } }),
};

let stack: Stack;
let browser: Browser | undefined;

beforeAll(async () => {
  stack = await startStack({ catalog: Object.values(episodes), env: { STRM_PROXY_STATUS: 'on' } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** What an operator runs: the proxy's CLI with the proxy's secret. */
function statusUrlFromCli(baseUrl: string, ttlSeconds = 600): string {
  const result = spawnSync(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', join(REPO, 'apps/proxy/src/cli.ts'), 'status-url', '--base-url', baseUrl, '--ttl', String(ttlSeconds)], {
    cwd: REPO,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', STRM_PROXY_SECRET: SECRET },
    timeout: 30_000,
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trim();
}

/** The bytes column of the stream row of an episode, as the page shows it (e.g. `1.25 MiB`). */
async function shownBytes(page: Page, label: string): Promise<string> {
  return page.locator('#streams tr', { hasText: label }).locator('td.bytes').innerText();
}

function toBytes(text: string): number {
  const [value, unit] = text.split(' ');
  const scale = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB }[unit as 'B'];
  return Number(value) * scale;
}

describe('/status in Chromium', () => {
  test('shows the episode playing, the failure and its code, and updates without a reload; no secret on the page', async () => {
    const failedAt = stack.logs.length;
    const failed = await request(stack.entryUrl(episodes.revoked));
    await failed.body.dump();
    expect(failed.statusCode).toBe(403);
    await stack.requestLinesLogged(1, failedAt);

    const playing = await request(stack.entryUrl(episodes.playing));
    expect(playing.statusCode).toBe(200);
    let received = 0;
    const firstBytes = new Promise<void>((resolve) => playing.body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      resolve();
    }));
    await firstBytes;

    const link = statusUrlFromCli(stack.proxy.url);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 360 }, deviceScaleFactor: 1 });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    const requested: string[] = [];
    page.on('request', (sent) => requested.push(sent.url()));
    try {
      const response = await page.goto(link);
      expect(response?.status()).toBe(200);
      const label = 'frieren S01E03 · German Dub · aniworld.to';
      const streamRow = page.locator('#streams tr', { hasText: label });
      await streamRow.waitFor({ timeout: 15_000 });
      await expect.poll(() => streamRow.locator('td').nth(3).innerText(), { timeout: 15_000 }).toBe('200');
      const failureRow = page.locator('#failures tr', { hasText: 'dandadan S01E07' });
      await failureRow.waitFor({ timeout: 15_000 });
      expect(await failureRow.locator('td.code').innerText()).toBe('STRM_UPSTREAM_FAILED');
      expect(await failureRow.innerText()).toContain('the upstream answered 403');
      await page.locator('#cache tr', { hasText: label }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#redis').innerText()).toContain('not configured');
      expect(await page.locator('#version').innerText()).toMatch(/^\d+\.\d+\.\d+/);

      // Updates arrive by polling: the byte count grows while the page stays the same document.
      const before = toBytes(await shownBytes(page, label));
      await expect.poll(async () => toBytes(await shownBytes(page, label)), { timeout: 20_000 }).toBeGreaterThan(before);
      expect(navigations).toBe(1);
      expect(received).toBeGreaterThan(0);

      // What the page shows and what it loaded: the proxy's origin only, no secret, token or upstream query.
      const text = await page.locator('body').innerText();
      const upstreamUrl = stack.resolver.issuedUrls(episodes.playing).at(-1)!;
      const cdnToken = /\/t\/([^/]+)\//.exec(upstreamUrl)![1]!;
      for (const secret of [SECRET, cdnToken, new URL(stack.entryUrl(episodes.playing)).searchParams.get('sig')!, new URL(link).searchParams.get('sig')!, 'sig=', '/t/']) {
        expect(text, secret).not.toContain(secret);
      }
      expect(new Set(requested.map((url) => new URL(url).origin))).toEqual(new Set([stack.proxy.url]));
      expect(requested.map((url) => new URL(url).pathname)).toEqual(expect.arrayContaining(['/status', '/status.js', '/status.css', '/status.svg', '/status.json']));
      // No CSP violation, no script error.
      expect(problems).toEqual([]);

      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'status-page.png'), fullPage: true });
      if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
        // The README's copy: the same picture on a 64-colour palette (text stays sharp, a third of the size).
        const docs = join(REPO, 'docs', 'status-page.png');
        const palette = 'split[a][b];[a]palettegen=max_colors=64:reserve_transparent=0[p];[b][p]paletteuse=dither=none';
        execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', join(RESULTS, 'status-page.png'), '-vf', palette, '-pred', 'mixed', docs]);
        expect(statSync(docs).size).toBeLessThan(48 * 1024);
      }
    } finally {
      await page.close();
      playing.body.destroy();
    }
  });

  test('when its link expires, the open page says that updates stopped and how to get a new link', async () => {
    const page = await browser!.newPage();
    try {
      // Long enough to open the page on a loaded machine, short enough to see it expire.
      expect((await page.goto(statusUrlFromCli(stack.proxy.url, 8)))?.status()).toBe(200);
      await expect.poll(() => page.locator('#version').innerText(), { timeout: 15_000 }).toMatch(/^\d/);
      const problem = page.locator('#problem');
      await problem.waitFor({ state: 'visible', timeout: 30_000 });
      expect(await problem.innerText()).toMatch(/^No update: this status link has expired: make a new one with `strm-proxy status-url` \(updates stopped; reload with a valid link\)$/);
    } finally {
      await page.close();
    }
  });

  test('without credentials the page is a 401 JSON answer, not the page', async () => {
    const page = await browser!.newPage();
    try {
      const response = await page.goto(`${stack.proxy.url}/status`);
      expect(response?.status()).toBe(401);
      expect(JSON.parse(await page.locator('body').innerText())).toMatchObject({ error: { code: 'STRM_UNAUTHORIZED' } });
    } finally {
      await page.close();
    }
  });
});

import { afterAll, beforeAll, expect, test } from 'vitest';
import { openBrowser, playPlayerPage, PlayerPageStalled, servePlayerPage, type OpenBrowser, type PageServer } from '../src/browser';

// The harness of the browser suites: a page that stalls is played once more only when the network
// had done its part (every request answered whole); a stall with a request failed rejects at once.

const stuck = '<!doctype html><script>window.strmPlayer = { result: new Promise(() => {}) };</script>';
const files = {
  '/stuck.html': { type: 'text/html; charset=utf-8', body: stuck },
  '/stuck-missing.html': { type: 'text/html; charset=utf-8', body: `${stuck}<script src="/absent.js"></script>` },
};

let browser: OpenBrowser;
let pages: PageServer;
beforeAll(async () => {
  [browser, pages] = await Promise.all([openBrowser(), servePlayerPage(files)]);
}, 60_000);
afterAll(async () => {
  await Promise.all([browser?.close(), pages?.close()]);
});

const loads = (path: string) => pages.served.filter((served) => served === path).length;

test('a page stalled with every request answered whole is played twice, then rejects with what it was doing', async () => {
  const error = await playPlayerPage(browser, pages.url('/stuck.html'), 4000).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(PlayerPageStalled);
  expect((error as PlayerPageStalled).networkDone).toBe(true);
  expect((error as Error).message).toMatch(/did not finish within 4000 ms/);
  expect(loads('/stuck.html')).toBe(2);
});

test('a suite that counts one playback\'s requests asks for no second playback', async () => {
  const before = loads('/stuck.html');
  await expect(playPlayerPage(browser, pages.url('/stuck.html'), 4000, { playAgainAfterStall: false })).rejects.toBeInstanceOf(PlayerPageStalled);
  expect(loads('/stuck.html') - before).toBe(1);
});

test('a page stalled with a request answered 404 rejects at the first stall', async () => {
  const error = await playPlayerPage(browser, pages.url('/stuck-missing.html'), 4000).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(PlayerPageStalled);
  expect((error as PlayerPageStalled).networkDone).toBe(false);
  expect((error as Error).message).toMatch(/absent\.js → 404/);
  expect(loads('/stuck-missing.html')).toBe(1);
});

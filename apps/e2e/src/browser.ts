import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Where the system Chromium lives on Debian (`apt-get install chromium`). No browser is
 * downloaded: playwright-core only drives the one the machine has.
 */
const systemChromium = '/usr/bin/chromium';

/**
 * Headless system Chromium for the browser suites. Its own background traffic is switched off
 * (playwright's defaults plus the features below) and every host name resolves to nothing, so the
 * browser reaches only the IP literals of the loopback servers a test opens it on. Chromium
 * refuses its sandbox to root (CI containers), so the sandbox is on only for other users.
 *
 * @example
 * ```ts
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await page.goto(`${proxy.url}/status?…`);
 * await browser.close();
 * ```
 */
export async function launchChromium(options: { executablePath?: string; args?: readonly string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: options.executablePath ?? systemChromium,
    headless: true,
    chromiumSandbox: process.getuid?.() !== 0,
    args: [
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
      '--no-proxy-server',
      '--disable-features=Translate,OptimizationHints,MediaRouter',
      ...(options.args ?? []),
    ],
  });
}

/** One request a page made, as the browser saw it (page, scripts, XHR, fetch). */
export interface BrowserRequest {
  readonly method: string;
  readonly url: string;
  readonly resourceType: string;
  /** Response status; undefined when the request failed (refused, CORS-blocked, aborted). */
  status?: number;
  /** The browser's reason for a failed request, e.g. `net::ERR_FAILED` for a CORS refusal. */
  failure?: string;
  /** The request's `Range` header, when it had one. */
  readonly range?: string;
  /** The whole response body arrived (Playwright's `requestfinished`). */
  finished?: boolean;
}

/** A page opened in its own browser context, with every request it made logged. */
export interface LoggedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every request of the page, in the order the browser issued them (`blob:` and `data:` left out). */
  readonly requests: readonly BrowserRequest[];
  /** Console messages and uncaught page errors, for failure messages. */
  readonly console: readonly string[];
  close(): Promise<void>;
}

/** A running headless Chromium. */
export interface OpenBrowser {
  readonly browser: Browser;
  readonly version: string;
  /** A fresh context (no shared cache or cookies between tests) with one page, its requests logged. */
  newPage(): Promise<LoggedPage>;
  close(): Promise<void>;
}

/**
 * {@link launchChromium} for player pages: `video.play()` needs no click
 * (`--autoplay-policy=no-user-gesture-required`), and each page's requests are logged.
 *
 * @example
 * ```ts
 * const browser = await openBrowser();
 * const { page, requests } = await browser.newPage();
 * await page.goto(pages.url('/hls.html', { src: entryUrl }));
 * await browser.close();
 * ```
 */
export async function openBrowser(options: { executablePath?: string; args?: readonly string[] } = {}): Promise<OpenBrowser> {
  const browser = await launchChromium({ ...options, args: ['--autoplay-policy=no-user-gesture-required', ...(options.args ?? [])] });
  const contexts = new Set<BrowserContext>();
  return {
    browser,
    version: browser.version(),
    async newPage() {
      const context = await browser.newContext();
      contexts.add(context);
      const page = await context.newPage();
      const requests: BrowserRequest[] = [];
      const consoleLines: string[] = [];
      const byRequest = new Map<object, BrowserRequest>();
      context.on('request', (request) => {
        if (!/^https?:/.test(request.url())) return;
        const range = request.headers()['range'];
        const entry: BrowserRequest = { method: request.method(), url: request.url(), resourceType: request.resourceType(), ...(range ? { range } : {}) };
        byRequest.set(request, entry);
        requests.push(entry);
      });
      context.on('response', (response) => {
        const entry = byRequest.get(response.request());
        if (entry) entry.status = response.status();
      });
      context.on('requestfinished', (request) => {
        const entry = byRequest.get(request);
        if (entry) entry.finished = true;
      });
      context.on('requestfailed', (request) => {
        const entry = byRequest.get(request);
        if (entry) entry.failure = request.failure()?.errorText ?? 'failed';
      });
      page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
      return {
        page,
        context,
        requests,
        console: consoleLines,
        async close() {
          contexts.delete(context);
          await context.close();
        },
      };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** A file the page server answers: inline content, or a file on disk read at each request. */
export type PageFile = { readonly type: string } & ({ readonly body: string } | { readonly path: string });

/** A loopback server for player pages, on an origin of its own (not the proxy's). */
export interface PageServer {
  readonly origin: string;
  /** `origin + path`, with `query` as search parameters. */
  url(path: string, query?: Record<string, string>): string;
  /** Paths requested so far, in order. */
  readonly served: readonly string[];
  close(): Promise<void>;
}

const requireFromHere = createRequire(import.meta.url);

/** hls.js from `node_modules` (the version pinned in `package.json`), as a page loads it. */
const hlsJsFile: PageFile = { type: 'text/javascript', path: requireFromHere.resolve('hls.js/dist/hls.min.js') };

/**
 * The hls.js player pages and their script: `/hls.html?src=<url>` (see `pages/hls.html`) and the
 * live one, `/hls-live.html?src=<url>&lowLatency=1&seconds=<s>` (see `pages/hls-live.html`).
 */
export const hlsPlayerFiles: Readonly<Record<string, PageFile>> = {
  '/hls.html': { type: 'text/html; charset=utf-8', path: fileURLToPath(new URL('../pages/hls.html', import.meta.url)) },
  '/hls-live.html': { type: 'text/html; charset=utf-8', path: fileURLToPath(new URL('../pages/hls-live.html', import.meta.url)) },
  '/vendor/hls.min.js': hlsJsFile,
};

/** The dash.js player page and dash.js from `node_modules` (the version pinned in `package.json`): `/dash.html?src=<url>` (see `pages/dash.html`). */
export const dashPlayerFiles: Readonly<Record<string, PageFile>> = {
  '/dash.html': { type: 'text/html; charset=utf-8', path: fileURLToPath(new URL('../pages/dash.html', import.meta.url)) },
  // The package's `require` condition is dash.js's browser (UMD) build.
  '/vendor/dash.all.min.js': { type: 'text/javascript', path: requireFromHere.resolve('dashjs') },
};

/**
 * Serves `files` (path → file) on 127.0.0.1, port 0. The pages are on another origin than the
 * proxy, so that every request of a player crosses origins as it does from a media server's web
 * client: the proxy's CORS answers are part of what a browser suite tests.
 *
 * @example
 * ```ts
 * const pages = await servePlayerPage(hlsPlayerFiles);
 * pages.url('/hls.html', { src: 'http://127.0.0.1:8080/strm/stream?…' });
 * // 'http://127.0.0.1:39127/hls.html?src=http%3A%2F%2F127.0.0.1%3A8080%2Fstrm%2Fstream%3F%E2%80%A6'
 * ```
 */
export async function servePlayerPage(files: Readonly<Record<string, PageFile>>, options: { host?: string } = {}): Promise<PageServer> {
  const served: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://page.invalid').pathname;
    served.push(path);
    if (path === '/favicon.ico') {
      // Browsers ask for it unprompted: a 404 would show up as a console error of the page.
      response.writeHead(204).end();
      return;
    }
    const file = files[path];
    if (!file || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`no page at ${path}\n`);
      return;
    }
    const body = 'body' in file ? Promise.resolve(Buffer.from(file.body)) : readFile(file.path);
    body.then(
      (bytes) => {
        response.writeHead(200, { 'content-type': file.type, 'content-length': bytes.length, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : bytes);
      },
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    served,
    url(path, query = {}) {
      const url = new URL(path, origin);
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
      return url.href;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Opens `url` (a player page) in `logged` and resolves with what the page's player reports in
 * `window.strmPlayer.result` once playback ended or failed: the convention of every page under
 * `pages/`. Rejects after `timeoutMs` with the page's console, so a stalled player fails its test.
 */
export async function runPlayerPage<T>(logged: LoggedPage, url: string, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      void stalledPage(logged).then((state) => reject(new PlayerPageStalled(logged, url, timeoutMs, state)));
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        await logged.page.goto(url, { timeout: timeoutMs });
        return logged.page.evaluate(() => (globalThis as unknown as { strmPlayer: { result: Promise<T> } }).strmPlayer.result) as Promise<T>;
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A player page that did not finish in time: what its video and player were doing, and its requests. */
export class PlayerPageStalled extends Error {
  readonly requests: readonly BrowserRequest[];
  /**
   * Every request of the page was answered below 400 and its body arrived whole: the network had
   * done its part and the player sat in a state of its own.
   */
  readonly networkDone: boolean;
  constructor(logged: LoggedPage, url: string, timeoutMs: number, state: string) {
    super(`the player page did not finish within ${timeoutMs} ms: ${url.slice(0, 120)}\n${state}\nrequests:\n${logged.requests.map(requestLine).join('\n')}\nconsole:\n${logged.console.join('\n')}`);
    this.name = 'PlayerPageStalled';
    this.requests = [...logged.requests];
    this.networkDone = logged.requests.length > 0 && logged.requests.every((request) => request.finished === true && request.status !== undefined && request.status < 400);
  }
}

/**
 * Plays `url` (a player page) in a fresh context with {@link runPlayerPage}: the player's report,
 * the page's requests and console. A page that stalls although every request of it was answered
 * whole ({@link PlayerPageStalled.networkDone}) is the player's own state on a starved machine, not
 * what a suite tests: it is played once more in a fresh context, and said so on stderr. A second
 * stall, or a stall with a request unanswered or failed, rejects. A suite that counts what one
 * playback asked of the CDN passes `playAgainAfterStall: false` (a second playback would add to it).
 */
export async function playPlayerPage<T>(browser: OpenBrowser, url: string, timeoutMs?: number, options: { playAgainAfterStall?: boolean } = {}) {
  const attempts = options.playAgainAfterStall === false ? 1 : 2;
  for (let attempt = 1; ; attempt++) {
    const logged = await browser.newPage();
    try {
      const result = await runPlayerPage<T>(logged, url, timeoutMs);
      return { result, requests: [...logged.requests], console: [...logged.console] };
    } catch (error) {
      if (!(error instanceof PlayerPageStalled && error.networkDone && attempt < attempts)) throw error;
      console.error(`played again after a stall with every request answered whole: ${error.message}`);
    } finally {
      await logged.close();
    }
  }
}

const requestLine = (request: BrowserRequest) => `${request.method} ${request.url.slice(0, 100)}${request.range ? ` ${request.range}` : ''} → ${request.status ?? request.failure ?? 'no answer yet'}`;

/** What a page that did not finish was doing: its video element's state and what its player recorded so far. */
async function stalledPage(logged: LoggedPage): Promise<string> {
  // A string, as the page runs it: this project is not compiled with the DOM's types.
  const read = logged.page.evaluate<string>(`(() => {
    const video = document.querySelector('video');
    const ranges = (list) => Array.from({ length: list.length }, (_v, i) => list.start(i).toFixed(2) + '-' + list.end(i).toFixed(2)).join(' ');
    const { result, ...recorded } = window.strmPlayer || {};
    return JSON.stringify({
      video: video && { currentTime: video.currentTime, duration: video.duration, paused: video.paused, ended: video.ended, readyState: video.readyState, networkState: video.networkState, buffered: ranges(video.buffered), error: video.error && video.error.message },
      recorded,
    }).slice(0, 4000);
  })()`);
  const gaveUp = new Promise<string>((resolve) => setTimeout(() => resolve('(the page did not answer within 5 s)'), 5000).unref());
  return Promise.race([read, gaveUp]).catch((error: Error) => `(the page could not be read: ${error.message})`);
}

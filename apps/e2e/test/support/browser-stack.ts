// The setup the browser player suites (dash.js, hls.js) share: a stack, the player's page on its
// own origin, Chromium, and a hop that adds to the fake CDN the CORS headers it lacks, so that
// each fixture also plays from the CDN directly.
import { openBrowser, servePlayerPage, type OpenBrowser, type PageFile, type PageServer } from '../../src/browser';
import type { FakeCdnOptions } from '../../src/fake-cdn';
import type { CatalogEntry } from '../../src/fake-resolver';
import { startStack, type Stack } from './stack';
import { startTamperingFront, type TamperingFront } from './tamper';

/** A running stack with a player page, a browser and a CORS hop to the CDN. */
export interface BrowserStack {
  readonly stack: Stack;
  readonly pages: PageServer;
  readonly browser: OpenBrowser;
  /** The fake CDN behind a hop that adds CORS headers: the direct playback's origin. */
  readonly corsCdn: TamperingFront;
  /** Closes all four, the last started first. */
  close(): Promise<void>;
}

/**
 * Starts a stack serving `catalog`, a page server for `playerFiles`, Chromium and the CORS hop;
 * when one fails to start, closes those already started before throwing.
 */
export async function startBrowserStack(catalog: readonly CatalogEntry[], playerFiles: Readonly<Record<string, PageFile>>, options: { live?: FakeCdnOptions['live']; env?: Record<string, string> } = {}): Promise<BrowserStack> {
  const started: Array<{ close(): Promise<unknown> }> = [];
  const closeStarted = async () => {
    for (const part of [...started].reverse()) await part.close();
  };
  try {
    const stack = await startStack({ catalog, ...options });
    started.push(stack);
    const pages = await servePlayerPage(playerFiles);
    started.push(pages);
    const browser = await openBrowser();
    started.push(browser);
    const corsCdn = await startTamperingFront(stack.cdn.origin, { addCors: true });
    started.push(corsCdn);
    return { stack, pages, browser, corsCdn, close: closeStarted };
  } catch (error) {
    await closeStarted();
    throw error;
  }
}

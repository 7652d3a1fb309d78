import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core drives it, nothing is downloaded. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium for the browser suites. Its own background traffic is switched off (playwright's
 * defaults) and every host name resolves to nothing, so the browser reaches only the IP literals of
 * the loopback servers the test opens it on. Chromium refuses its sandbox to root (CI containers).
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await page.goto(`${proxy.url}/status?…`);
 * await browser.close();
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: process.getuid?.() !== 0,
    args: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost', '--no-proxy-server', '--disable-features=Translate,OptimizationHints,MediaRouter'],
  });
}

// The benchmark's client side: undici requests whose bodies are counted and dropped.
import type { Agent } from 'undici';

export interface Fetched {
  status: number;
  bytes: number;
  /** From sending the request to the response headers. */
  headersMs: number;
  /** From sending the request to the first body byte (to the end, for an empty body). */
  firstByteMs: number;
  /** From sending the request to the end of the body. */
  totalMs: number;
}

/** GETs `url` and reads the body to its end, discarding it. */
export async function fetchAndDiscard(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const { origin, pathname, search } = new URL(url);
  const started = performance.now();
  const response = await agent.request({ origin, path: `${pathname}${search}`, method: 'GET', headers });
  const headersAt = performance.now();
  let firstByteAt: number | undefined;
  let bytes = 0;
  await new Promise<void>((resolveBody, reject) => {
    response.body.on('data', (chunk: Buffer) => {
      firstByteAt ??= performance.now();
      bytes += chunk.length;
    });
    response.body.once('end', resolveBody);
    response.body.once('error', reject);
  });
  const endedAt = performance.now();
  return {
    status: response.statusCode,
    bytes,
    headersMs: headersAt - started,
    firstByteMs: (firstByteAt ?? endedAt) - started,
    totalMs: endedAt - started,
  };
}

/** What the slow readers of one load have received so far, updated as the bytes arrive. */
export interface SlowProgress {
  /** Bytes read by all of them. */
  bytes: number;
  /** Readers that received their first body byte. */
  served: number;
}

/**
 * GETs `url` and reads at most `bytesPerSecond`, pausing the body in between (so the server sees
 * a slow client through TCP backpressure), until `signal` aborts. Counts into `progress` as it
 * reads.
 */
export async function readSlowly(agent: Agent, url: string, bytesPerSecond: number, signal: AbortSignal, progress: SlowProgress): Promise<void> {
  const { origin, pathname, search } = new URL(url);
  let bytes = 0;
  try {
    const response = await agent.request({ origin, path: `${pathname}${search}`, method: 'GET', signal });
    const started = performance.now();
    await new Promise<void>((resolveBody, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const body = response.body;
      const finish = () => {
        clearTimeout(timer);
        resolveBody();
      };
      body.on('data', (chunk: Buffer) => {
        if (bytes === 0) progress.served += 1;
        bytes += chunk.length;
        progress.bytes += chunk.length;
        // Ahead of the allowed rate: stop reading until the clock catches up.
        const aheadMs = (bytes / bytesPerSecond) * 1000 - (performance.now() - started);
        if (aheadMs > 0) {
          body.pause();
          timer = setTimeout(() => body.resume(), aheadMs);
        }
      });
      body.once('end', finish);
      body.once('error', (error) => (signal.aborted ? finish() : reject(error)));
      body.once('close', finish);
    });
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

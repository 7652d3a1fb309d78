// The stack the fuzz and the soak drive: the fake CDN (fixtures and big synthetic files), a
// static resolver file, optionally a hostile origin, and the real proxy in a child process of its
// own (so a crash is seen as an exit, and its memory and descriptors are its own). Loopback only.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedEntryUrl } from '@strm/signing';
import { startFakeCdn, type FakeCdn } from '@strm/e2e';
import { startChildProxy, type ChildProxy } from '../../apps/e2e/test/support/child-proxy';

const HARNESS_SECRET = 'strm-harness-secret-0123456789abcdef';
const SITE = 'aniworld.to';
const LANGUAGE = 'German Dub';

/** One episode of the static resolver file: `slug` and `episode` name it, `url` is where it lives. */
export interface HarnessEpisode {
  slug: string;
  episode: number;
  url: string;
}

export interface HarnessStack {
  readonly cdn: FakeCdn;
  readonly proxy: ChildProxy;
  /** The signed entry URL (`/strm/stream?...&sig=`) of an episode of the resolver file. */
  entryUrl(slug: string, episode: number): string;
  close(): Promise<void>;
}

/**
 * Starts the fake CDN, writes the resolver file (`episodes(cdn)` lists what it holds) and starts the
 * proxy on it, auth `token`, upstreams restricted to 127.0.0.1, logging warnings and errors only.
 */
export async function startHarnessStack(options: {
  episodes: (cdn: FakeCdn) => HarnessEpisode[];
  env?: Record<string, string>;
}): Promise<HarnessStack> {
  const cdn = await startFakeCdn({ host: '127.0.0.1' });
  const dir = await mkdtemp(join(tmpdir(), 'strm-harness-'));
  const entries = options.episodes(cdn).map((episode) => ({ site: SITE, slug: episode.slug, season: 1, episode: episode.episode, language: LANGUAGE, url: episode.url }));
  const resolverFile = join(dir, 'episodes.json');
  await writeFile(resolverFile, JSON.stringify({ entries }));
  let proxy: ChildProxy;
  try {
    proxy = await startChildProxy({
      STRM_PROXY_SECRET: HARNESS_SECRET,
      STRM_RESOLVER_FILE: resolverFile,
      STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
      STRM_PROXY_UPSTREAM_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'warn',
      ...options.env,
    });
  } catch (error) {
    await cdn.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    cdn,
    proxy,
    entryUrl: (slug, episode) => signedEntryUrl(`${proxy.url}/strm/stream`, { site: SITE, slug, s: 1, e: episode, lang: LANGUAGE }, HARNESS_SECRET),
    async close() {
      await proxy.close();
      await cdn.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Everything a benchmark run talks to: the media folder, the origin (nginx serving the media as
// static files when it is installed, else the fake CDN) and the fake resolver, the proxy (auth on,
// HTTP resolver, cache on), the bare Node pipe, the TCP relay and nginx proxy_pass, each a process
// of its own, and the URLs of the same bytes through each of them.
import { randomFillSync } from 'node:crypto';
import { open, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedEntryUrl } from '@strm/signing';
import { Agent, request } from 'undici';
import { bundleServer } from './bundle';
import { buildProxy } from './proxy-build';
import { findNginx, nginxVersion, startNginx, startNginxOrigin } from './nginx';
import { BENCH_SERIES, EPISODE, MEDIA } from './origin';
import { checkOrigin } from './origin-check';
import { jsonReadyLine, startNodeServer, startServer, root, type ServerProcess } from './processes';

const MiB = 1024 * 1024;
const SECRET = 'strm-bench-secret-0123456789abcdef';

export interface StackOptions {
  movieBytes: number;
  segmentBytes: number;
  /** Episodes the resolver knows that nobody asked for yet: one per cold time-to-first-byte sample. */
  coldEpisodes: number;
  nginx: boolean;
  /**
   * Which server sends the media: `nginx` (static files with sendfile, the default when nginx is
   * installed) or `node` (the fake CDN of `@strm/e2e`, the fallback). The resolver is the fake
   * one either way, and hands out the same token URLs.
   */
  origin: 'nginx' | 'node' | undefined;
  /** Run the proxy under `node --cpu-prof`, writing the profile into this folder. */
  profileDir?: string;
  /** Another checkout (a git worktree) whose proxy runs beside this one, for a before/after in one run. */
  baseline?: string;
  /** Also start the two minimal byte paths of `byte-paths.ts` (single stream only). */
  bytePaths?: boolean;
  /** Extra environment of the proxy (e.g. LOG_LEVEL). */
  proxyEnv?: Record<string, string>;
}

/** One way of reaching the bytes: directly, or through a proxy. */
interface Route {
  /** The 256 MiB file. */
  movie: string;
  /** A 1 MiB segment. */
  segment: string;
}

export interface Stack {
  workDir: string;
  /** The process that sends the media bytes (nginx or the Node fake CDN): its CPU is the origin's share. */
  origin: ServerProcess;
  /** Which origin that is and why, for the output. */
  originNote: string;
  proxy: ServerProcess;
  bare: ServerProcess;
  relay: ServerProcess;
  /** The proxy of `StackOptions.baseline`, when one was given. */
  baseline: { proxy: ServerProcess; stream: Pick<Route, 'movie'>; token: Route; checkout: string } | undefined;
  /** The minimal byte paths of `byte-paths.ts`, when `StackOptions.bytePaths` asked for them. */
  bytePaths: { reused: { server: ServerProcess; movie: string }; dispatch: { server: ServerProcess; movie: string } } | undefined;
  nginx: ServerProcess | undefined;
  /** Why nginx is missing, when it is. */
  nginxNote: string | undefined;
  direct: Route;
  barePipe: Route;
  /** Through the TCP relay (no HTTP parsed): the same paths as direct. */
  relayRoute: Route;
  nginxRoute: Route | undefined;
  /** `/strm/stream` (signed entry URL) for the movie; `/strm/proxy/<token>/<name>` for both, from the rewritten playlist. */
  proxyStream: Pick<Route, 'movie'>;
  proxyToken: Route;
  /** The signed entry URL of the i-th episode nobody asked for yet (a cold resolution). */
  coldEntry(i: number): string;
  /** The fake resolver's own `/resolve` URL of the movie (to time the resolver alone). */
  resolverUrl(): string;
  /** Starts one more proxy and one more bare pipe, fresh (stopped with the stack, or by the caller). */
  freshPair(): Promise<{ proxy: ServerProcess; bare: ServerProcess }>;
  stop(): Promise<void>;
}

async function writeFileOfSize(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  const chunk = Buffer.allocUnsafe(Math.min(bytes, 4 * MiB));
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      const length = Math.min(chunk.length, bytes - written);
      randomFillSync(chunk, 0, length);
      await file.write(chunk, 0, length);
    }
  } finally {
    await file.close();
  }
}

/** The large file, the segment and a playlist of both, in `mediaDir`. */
export async function prepareMedia(mediaDir: string, options: Pick<StackOptions, 'movieBytes' | 'segmentBytes'>): Promise<void> {
  await mkdir(join(mediaDir, 'bench'), { recursive: true });
  await writeFileOfSize(join(mediaDir, MEDIA.movie), options.movieBytes);
  await writeFileOfSize(join(mediaDir, MEDIA.segment), options.segmentBytes);
  const playlist = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:6', '#EXT-X-PLAYLIST-TYPE:VOD'];
  playlist.push('#EXTINF:6.000,', 'segment.ts', '#EXTINF:6.000,', 'movie.mp4', '#EXT-X-ENDLIST', '');
  await writeFile(join(mediaDir, MEDIA.playlist), playlist.join('\n'));
}

const entryQuery = (episode: number) => ({
  site: BENCH_SERIES.site,
  slug: BENCH_SERIES.slug,
  s: BENCH_SERIES.season,
  e: episode,
  lang: BENCH_SERIES.language,
});

async function getText(url: string): Promise<string> {
  const response = await request(url);
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}: ${text.slice(0, 200)}`);
  return text;
}

/** The pino line the proxy prints once it listens. */
export function proxyReadyLine(line: string): Record<string, unknown> | undefined {
  if (!line.includes('strm-proxy listening')) return undefined;
  return JSON.parse(line) as Record<string, unknown>;
}

/** Re-roots a URL of the origin onto a proxy that forwards paths as they are. */
const onto = (base: string, url: string) => {
  const { pathname, search } = new URL(url);
  return `${base}${pathname}${search}`;
};

/** The token URLs of the movie and the segment, from the playlist a proxy rewrote. */
async function tokenRoute(playlistUrl: string): Promise<Route> {
  const rewritten = (await getText(playlistUrl)).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const segment = rewritten.find((line) => line.endsWith('/segment.ts'));
  const movie = rewritten.find((line) => line.endsWith('/movie.mp4'));
  if (segment === undefined || movie === undefined) throw new Error(`the rewritten playlist lacks its URIs: ${rewritten.join(' ')}`);
  return { movie: new URL(movie, playlistUrl).href, segment: new URL(segment, playlistUrl).href };
}

/** Starts a compiled proxy (its bin): auth on, the fake resolver, a JSON log line per request into `logFile`. */
function startProxy(bin: string, resolverBase: string, logFile: string, options: StackOptions): Promise<ServerProcess> {
  return startServer({
    name: 'proxy',
    stdoutFile: logFile,
    command: process.execPath,
    args: [...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []), bin, 'serve'],
    env: {
      STRM_PROXY_SECRET: SECRET,
      STRM_PROXY_AUTH: 'token',
      STRM_RESOLVER_URL: resolverBase,
      STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...options.proxyEnv,
    },
    ready: proxyReadyLine,
  });
}

/**
 * The origin of the run. nginx sends the files when it is installed (or asked for): the Node fake
 * CDN was the busiest process of every single-stream row, so direct measured the origin instead
 * of being the ceiling. The fake resolver stays in Node and hands out the same token URLs, re-rooted
 * onto nginx.
 */
async function startOrigin(mediaDir: string, workDir: string, options: StackOptions, started: ServerProcess[]) {
  const nginx = options.origin === 'node' ? undefined : findNginx();
  if (options.origin === 'nginx' && nginx === undefined) throw new Error('--origin nginx: nginx is not installed (looked on the PATH and in /usr/sbin, /usr/local)');
  const media = nginx === undefined ? undefined : await startNginxOrigin(nginx, mediaDir, join(workDir, 'nginx-origin'));
  if (media) started.push(media);
  const args = [mediaDir, String(options.coldEpisodes), ...(media ? [media.url] : [])];
  const node = await startNodeServer(media ? 'resolver' : 'origin', 'tools/bench/origin.ts', { args });
  started.push(node);
  const note =
    media ? `origin: ${nginxVersion(nginx!)} serving the media as static files (sendfile); the fake resolver in Node`
    : options.origin === 'node' ? 'origin: the Node fake CDN (--origin node); direct and every route may be limited by it'
    : 'origin: the Node fake CDN, as nginx is not installed; direct and every route may be limited by it';
  return { origin: media ?? node, resolverBase: String(node.info.resolver), note };
}

/** Fails the run, before anything is measured, when the origin answers otherwise than the proxy needs. */
async function assertOrigin(direct: Route, playlist: string, mediaDir: string, note: string): Promise<void> {
  const problems = await checkOrigin(
    [
      { url: direct.segment, path: join(mediaDir, MEDIA.segment), contentType: 'video/mp2t' },
      { url: direct.movie, path: join(mediaDir, MEDIA.movie), contentType: 'video/mp4' },
      { url: playlist, path: join(mediaDir, MEDIA.playlist), contentType: 'application/vnd.apple.mpegurl' },
    ],
    0,
  );
  if (problems.length > 0) {
    throw new Error(`the origin does not answer as the proxy needs (${note}):\n  ${problems.join('\n  ')}\n(--origin node runs the bench against the Node fake CDN)`);
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const workDir = await mkdtemp(join(tmpdir(), 'strm-bench-'));
  const started: ServerProcess[] = [];
  try {
    const mediaDir = join(workDir, 'media');
    await prepareMedia(mediaDir, options);
    const { origin, resolverBase, note: originNote } = await startOrigin(mediaDir, workDir, options, started);

    const binDir = join(workDir, 'bin');
    const [proxyBin, baselineBin, bareBundle, relayBundle] = await Promise.all([
      buildProxy(root),
      options.baseline === undefined ? undefined : buildProxy(options.baseline),
      bundleServer('tools/bench/bare-pipe.ts', join(binDir, 'bare-pipe.mjs')),
      bundleServer('tools/bench/tcp-relay.ts', join(binDir, 'tcp-relay.mjs')),
    ]);
    const proxy = await startProxy(proxyBin, resolverBase, join(workDir, 'proxy.log'), options);
    started.push(proxy);
    const baselineProxy = baselineBin === undefined ? undefined : await startProxy(baselineBin, resolverBase, join(workDir, 'baseline.log'), { ...options, profileDir: undefined });
    if (baselineProxy) started.push(baselineProxy);
    const startBare = () => startServer({ name: 'bare pipe', command: process.execPath, args: [bareBundle, origin.url], ready: jsonReadyLine });
    const bare = await startBare();
    started.push(bare);
    const relay = await startServer({ name: 'tcp relay', command: process.execPath, args: [relayBundle, origin.url], ready: jsonReadyLine });
    started.push(relay);
    let bytePaths: { reused: ServerProcess; dispatch: ServerProcess } | undefined;
    if (options.bytePaths) {
      const bundle = await bundleServer('tools/bench/byte-paths.ts', join(binDir, 'byte-paths.mjs'));
      const start = async (mode: 'reused' | 'dispatch') => {
        // As the proxy streams once its start-up minute is over (`serve` then turns incremental marking off): the byte paths are compared with it.
        const server = await startServer({ name: `byte path ${mode}`, command: process.execPath, args: ['--no-incremental-marking', bundle, origin.url, mode], ready: jsonReadyLine });
        started.push(server);
        return server;
      };
      bytePaths = { reused: await start('reused'), dispatch: await start('dispatch') };
    }

    let nginx: ServerProcess | undefined;
    let nginxNote: string | undefined;
    if (options.nginx) {
      const binary = findNginx();
      if (binary === undefined) nginxNote = 'nginx is not installed: its row is skipped';
      else {
        nginx = await startNginx(binary, origin.url, join(workDir, 'nginx'));
        started.push(nginx);
      }
    } else {
      nginxNote = 'nginx not measured in this run';
    }

    // Direct URLs: what the resolver hands out, fetched the way the proxy fetches them.
    const resolveUrl = (episode: number) =>
      `${resolverBase}/resolve?${new URLSearchParams(Object.entries(entryQuery(episode)).map(([k, v]): [string, string] => [k, String(v)]))}`;
    const resolved = async (episode: number) => (JSON.parse(await getText(resolveUrl(episode))) as { url: string }).url;
    const directMovie = await resolved(EPISODE.movie);
    const directPlaylist = await resolved(EPISODE.playlist);
    const direct: Route = { movie: directMovie, segment: new URL('segment.ts', directPlaylist).href };
    await assertOrigin(direct, directPlaylist, mediaDir, originNote);

    const entry = (episode: number, base = proxy.url) => signedEntryUrl(`${base}/strm/stream`, entryQuery(episode), SECRET);
    const proxyToken = await tokenRoute(entry(EPISODE.playlist));
    const baseline =
      baselineProxy === undefined || options.baseline === undefined
        ? undefined
        : { proxy: baselineProxy, stream: { movie: entry(EPISODE.movie, baselineProxy.url) }, token: await tokenRoute(entry(EPISODE.playlist, baselineProxy.url)), checkout: options.baseline };

    return {
      workDir,
      origin,
      originNote,
      proxy,
      bare,
      relay,
      baseline,
      bytePaths: bytePaths && {
        reused: { server: bytePaths.reused, movie: onto(bytePaths.reused.url, direct.movie) },
        dispatch: { server: bytePaths.dispatch, movie: onto(bytePaths.dispatch.url, direct.movie) },
      },
      nginx,
      nginxNote,
      direct,
      barePipe: { movie: onto(bare.url, direct.movie), segment: onto(bare.url, direct.segment) },
      relayRoute: { movie: onto(relay.url, direct.movie), segment: onto(relay.url, direct.segment) },
      nginxRoute: nginx ? { movie: onto(nginx.url, direct.movie), segment: onto(nginx.url, direct.segment) } : undefined,
      proxyStream: { movie: entry(EPISODE.movie) },
      proxyToken,
      coldEntry: (i) => entry(EPISODE.firstCold + i),
      resolverUrl: () => resolveUrl(EPISODE.movie),
      async freshPair() {
        const pairDir = await mkdtemp(join(workDir, 'pair-'));
        // Each is stopped with the stack as soon as it runs, whether or not the other one starts.
        const tracked = (server: ServerProcess) => (started.push(server), server);
        const [proxyCopy, bareCopy] = await Promise.all([
          startProxy(proxyBin, resolverBase, join(pairDir, 'proxy.log'), { ...options, profileDir: undefined }).then(tracked),
          startBare().then(tracked),
        ]);
        return { proxy: proxyCopy, bare: bareCopy };
      },
      async stop() {
        await Promise.all(started.map((server) => server.stop()));
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** A keep-alive client pool per target, as a media server keeps its connections to a proxy. */
export function clientAgent(connections = 128): Agent {
  return new Agent({ connections, keepAliveTimeout: 30_000, pipelining: 1 });
}

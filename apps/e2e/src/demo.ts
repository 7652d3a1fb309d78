// `npm start` with no configuration: the fake CDN with the committed fixture media, a static
// resolver file pointing at it, and the real proxy, in one process. It prints signed entry URLs
// that ffprobe, ffplay, VLC or a .strm file in Jellyfin can open. Not part of the published proxy.
//
// What an operator can rely on: every bad input (PORT, HOST, LOG_LEVEL, a port in use) is one
// line on stderr and exit code 1; the temporary folder goes away on every exit (Ctrl-C and
// failures included); the secret is kept in a 0600 file under the user's state folder, so the
// URLs of yesterday's demo still play today.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, startProxy, type RunningProxy } from '@strm/proxy';
import { signedEntryUrl } from '@strm/signing';
import { startFakeCdn, type FakeCdn } from './fake-cdn';
import { demoCatalog, staticResolverFile } from './fake-resolver';
import { mediaFixtures } from './fixtures';

/** What the demo has started, for the clean-up (filled in as it starts). */
const started: { workDir?: string; cdn?: FakeCdn; proxy?: RunningProxy } = {};

// 'exit' handlers run on process.exit() too, whatever led there: the one place that cleans up.
process.on('exit', () => {
  if (started.workDir !== undefined) rmSync(started.workDir, { recursive: true, force: true });
});

function stopWith(message: string): never {
  process.stderr.write(`strm demo: ${message}\n`);
  process.exit(1);
}

// Registered before anything starts: a Ctrl-C during the start-up cleans up too. A second one
// does not wait for running streams.
let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  void (async () => {
    await started.proxy?.close(2000);
    await started.cdn?.close();
  })().then(() => process.exit(0), () => process.exit(1));
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);

process.on('uncaughtException', (error) => stopWith(`failed: ${error.message}`));
process.on('unhandledRejection', (error) => stopWith(`failed: ${(error as Error)?.message ?? String(error)}`));

/** Where the demo keeps its secret: `$XDG_STATE_HOME/strm/demo-secret`, `~/.local/state/strm/demo-secret` by default. */
function demoSecretFile(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome = env.XDG_STATE_HOME?.trim() || join(homedir(), '.local', 'state');
  return join(stateHome, 'strm', 'demo-secret');
}

/** The operator's secret, or the demo's own, created once (mode 0600) and reused on every run. */
function demoSecret(): { secret: string; file?: string } {
  const given = process.env.STRM_PROXY_SECRET?.trim();
  if (given) return { secret: given };
  const file = demoSecretFile();
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return { secret: kept, file };
  } catch {
    // Not there yet, or not readable: a new one is made below (and kept if the folder allows).
  }
  const secret = randomBytes(32).toString('base64url');
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  } catch (error) {
    // A read-only home (the container image has none) still runs the demo, with this run's secret.
    process.stderr.write(`strm demo: could not keep the demo secret in ${file} (${(error as NodeJS.ErrnoException).code}); this run's URLs stop working when it stops (set XDG_STATE_HOME to a writable folder to keep them)\n`);
    return { secret };
  }
  return { secret, file };
}

/**
 * The addresses a viewer can reach a proxy listening on `host` at: this machine's loopback first
 * (a browser here, a container's published port), then every non-loopback address when it
 * listens on all of them (a media server elsewhere on the network).
 */
function reachableHosts(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [host.includes(':') ? `[${host}]` : host];
  const found: string[] = ['127.0.0.1'];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.internal) continue;
      if (address.family === 'IPv4') found.push(address.address);
      // Link-local IPv6 needs a zone that a URL cannot carry portably.
      else if (host === '::' && !address.address.toLowerCase().startsWith('fe80')) found.push(`[${address.address}]`);
    }
  }
  return found;
}

const logLevel = process.env.LOG_LEVEL?.trim() || 'warn';
const host = process.env.HOST?.trim() || '127.0.0.1';
const port = process.env.PORT?.trim() || '8080';
const demoEnv = (resolverFile: string, secret: string) => ({
  PORT: port,
  HOST: host,
  STRM_PROXY_SECRET: secret,
  STRM_RESOLVER_FILE: resolverFile,
  STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
  LOG_LEVEL: logLevel,
});

// Checked before anything is created, so that a typo costs nothing to clean up.
try {
  loadConfig(demoEnv('episodes.json', 'checked-before-the-secret-is-read-0123456789'));
} catch (error) {
  if (error instanceof ConfigError) stopWith(error.problems.join('; '));
  throw error;
}
const { secret, file: secretFile } = demoSecret();

const workDir = mkdtempSync(join(tmpdir(), 'strm-demo-'));
started.workDir = workDir;
const cdn = await startFakeCdn({ host: '127.0.0.1' });
started.cdn = cdn;
const resolverFile = join(workDir, 'episodes.json');
writeFileSync(resolverFile, `${JSON.stringify(staticResolverFile(cdn, demoCatalog), null, 2)}\n`);

const proxy = await startProxy(loadConfig(demoEnv(resolverFile, secret))).catch((error: unknown): never => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') stopWith(`port ${port} on ${host} is already in use (another demo or proxy?); set PORT to a free port, or PORT=0 for any free port`);
  if (code === 'EACCES') stopWith(`not allowed to listen on port ${port} (ports below 1024 need privileges); set PORT to 1024 or above`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') stopWith(`cannot listen on HOST ${host}: it is not an address of this machine`);
  stopWith(`could not start the proxy: ${(error as Error).message}`);
});
started.proxy = proxy;

const hosts = reachableHosts(host);
const bases = hosts.map((name) => `http://${name}:${proxy.port}`);
const episodeLines = (base: string) => demoCatalog.map((entry) => {
  const fixture = mediaFixtures.find((candidate) => entry.path === candidate.path);
  const url = signedEntryUrl(
    `${base}/strm/stream`,
    { site: entry.site, slug: entry.slug, s: entry.season, e: entry.episode, lang: entry.language },
    secret,
  );
  return { episode: entry.episode, name: fixture?.name ?? entry.path, url };
});
const first = episodeLines(bases[0]!);
for (const line of first) writeFileSync(join(workDir, `strm-demo S01E0${line.episode}.strm`), `${line.url}\n`);

const blocks = bases.map((base) => `${episodeLines(base).map((line) => `  S01E0${line.episode}  ${line.name.padEnd(14)} ${line.url}`).join('\n')}`);
const secretSource = secretFile !== undefined
  ? `"$(cat '${secretFile}')"`
  : process.env.STRM_PROXY_SECRET?.trim() ? '"$STRM_PROXY_SECRET"' : '"$(openssl rand -hex 32)"';
process.stdout.write(`
strm demo: the proxy listens on ${host} port ${proxy.port} (fake CDN ${cdn.origin}, static resolver ${resolverFile})
Signed entry URLs, one per episode (each is what a .strm file holds)${bases.length > 1 ? ', for this machine and for each of its network addresses' : ''}:

${blocks.join('\n\n')}

Try:  ffprobe -hide_banner "${first[0]!.url}"
      ffplay "${first[2]!.url}"
The same URLs are written as .strm files in ${workDir} (removed when the demo stops).
${secretFile !== undefined ? `The demo's secret is kept in ${secretFile}, so these URLs stay valid from one run to the next.\n` : ''}Requests are logged at LOG_LEVEL=${logLevel} (LOG_LEVEL=info shows one line per request). Ctrl-C stops.

With your own resolver, this runs the real proxy with the same secret:
  STRM_PROXY_SECRET=${secretSource} STRM_RESOLVER_URL=http://<your resolver>:<port> npm start
`);


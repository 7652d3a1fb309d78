// `npm start` with no configuration: the fake CDN with the committed fixture media, a static
// resolver file pointing at it, and the real proxy, in one process. It prints signed entry URLs
// that ffprobe, ffplay, VLC or a .strm file in Jellyfin can open. Not part of the published proxy.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, startProxy, type RunningProxy } from '@strm/proxy';
import { signedEntryUrl } from '@strm/signing';
import { startFakeCdn } from './fake-cdn';
import { demoCatalog, staticResolverFile } from './fake-resolver';
import { mediaFixtures } from './fixtures';

const host = process.env.HOST ?? '127.0.0.1';
const preferredPort = process.env.PORT ?? '8080';
const secret = process.env.STRM_PROXY_SECRET ?? randomBytes(24).toString('base64url');

const cdn = await startFakeCdn({ host: '127.0.0.1' });
const workDir = mkdtempSync(join(tmpdir(), 'strm-demo-'));
const resolverFile = join(workDir, 'episodes.json');
writeFileSync(resolverFile, `${JSON.stringify(staticResolverFile(cdn, demoCatalog), null, 2)}\n`);

async function start(port: string): Promise<RunningProxy> {
  const config = loadConfig({
    PORT: port,
    HOST: host,
    STRM_PROXY_SECRET: secret,
    STRM_RESOLVER_FILE: resolverFile,
    STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  return startProxy(config);
}

let proxy: RunningProxy;
try {
  proxy = await start(preferredPort);
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || process.env.PORT !== undefined) throw error;
  proxy = await start('0'); // 8080 is taken: any free port will do for a demo
}

const reachable = proxy.url.replace('://0.0.0.0:', '://127.0.0.1:');
const lines = demoCatalog.map((entry) => {
  const fixture = mediaFixtures.find((candidate) => entry.path === candidate.path);
  const url = signedEntryUrl(
    `${reachable}/strm/stream`,
    { site: entry.site, slug: entry.slug, s: entry.season, e: entry.episode, lang: entry.language },
    secret,
  );
  const strmFile = join(workDir, `strm-demo S01E0${entry.episode}.strm`);
  writeFileSync(strmFile, `${url}\n`);
  return { episode: entry.episode, name: fixture?.name ?? entry.path, url };
});

process.stdout.write(`
strm demo: the proxy is at ${reachable} (fake CDN ${cdn.origin}, static resolver ${resolverFile})
Signed entry URLs, one per episode (each is what a .strm file holds):

${lines.map((line) => `  S01E0${line.episode}  ${line.name.padEnd(14)} ${line.url}`).join('\n')}

Try:  ffprobe -hide_banner "${lines[0]!.url}"
      ffplay "${lines[2]!.url}"
The same URLs are written as .strm files in ${workDir}
Requests are logged at LOG_LEVEL=${process.env.LOG_LEVEL ?? 'warn'} (LOG_LEVEL=info shows one line per request). Ctrl-C stops.
`);

const stop = () => {
  void proxy.close(2000).then(() => cdn.close()).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

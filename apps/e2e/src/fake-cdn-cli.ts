// Runs the fake CDN alone for debugging:
//   pnpm --filter @strm/e2e fake-cdn [--host 127.0.0.1] [--port 0]
// and prints the plain URL of every fixture, plus a few faulted URLs to try with ffprobe or curl.
import { startFakeCdn } from './fake-cdn';
import { mediaFixtures } from './fixtures';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const port = Number(option('port') ?? 0);
const cdn = await startFakeCdn({ host: option('host') ?? '127.0.0.1', port });

const lines = [`fake CDN listening on ${cdn.origin} (media: apps/e2e/fixtures/media)`, '', 'fixtures (no faults):'];
for (const fixture of mediaFixtures) lines.push(`  ${fixture.name.padEnd(14)} ${cdn.url(fixture.path)}`);
lines.push('', 'web pages with a <video> of a fixture (for yt-dlp):');
for (const fixture of mediaFixtures) lines.push(`  ${fixture.name.padEnd(14)} ${cdn.url(`pages/${fixture.name}.html`)}`);
lines.push(
  '',
  'faulted URLs (each a fresh token; relative URIs inherit it):',
  `  expires after 3 uses   ${cdn.issue('hls-ts/master.m3u8', { expireAfterUses: 3 })}`,
  `  needs a Referer        ${cdn.issue('mp4-faststart/video.mp4', { requireReferer: 'https://aniworld.to/' })}`,
  `  .txt + .jpg segments   ${cdn.issue('hls-ts/master.m3u8', { playlistPathSuffix: '.txt', disguiseSegments: 'jpg' })}`,
  `  UTF-8 BOM              ${cdn.issue('hls-byterange/index.m3u8', { bom: true })}`,
  `  ignores Range          ${cdn.issue('mp4-moov-end/video.mp4', { ignoreRange: true })}`,
  `  drops after 10000 B    ${cdn.issue('mp4-faststart/video.mp4', { dropAfterBytes: 10_000 })}`,
  `  1 GiB synthetic        ${cdn.url(`big/${1024 ** 3}.bin`)}`,
  '',
  'Ctrl-C stops it.',
);
process.stdout.write(`${lines.join('\n')}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cdn.close().then(() => process.exit(0));
  });
}

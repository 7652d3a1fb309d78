// The origin of the benchmark, in a process of its own: the fake CDN over a media folder that
// stack.ts prepared (a large file, a 1 MiB segment, a playlist), and the fake resolver whose
// catalog points at them. Prints one JSON line when both listen.
//   node --conditions=@strm/source --import tsx tools/bench/origin.ts <mediaDir> <coldEpisodes> [<mediaOrigin>]
// With <mediaOrigin> (nginx serving the same folder, nginx-origin.conf), the resolver hands out
// the CDN's token URLs re-rooted there: the bytes come from nginx, the resolution from here.
import { startFakeCdn, startFakeResolver, type CatalogEntry, type CdnFaults, type FakeCdn } from '@strm/e2e';

/** The series every benchmark episode belongs to. */
export const BENCH_SERIES = { site: 'aniworld.to', slug: 'strm-bench', season: 1, language: 'German Dub' } as const;
/** Episode numbers: the large file, the playlist, and the first of the episodes resolved cold. */
export const EPISODE = { movie: 1, playlist: 2, firstCold: 1000 } as const;
/** Files of the media folder, relative to it. */
export const MEDIA = { movie: 'bench/movie.mp4', segment: 'bench/segment.ts', playlist: 'bench/index.m3u8' } as const;

function benchCatalog(coldEpisodes: number): CatalogEntry[] {
  const entry = (episode: number, path: string): CatalogEntry => ({ ...BENCH_SERIES, episode, path });
  const catalog = [entry(EPISODE.movie, MEDIA.movie), entry(EPISODE.playlist, MEDIA.playlist)];
  for (let i = 0; i < coldEpisodes; i++) catalog.push(entry(EPISODE.firstCold + i, MEDIA.movie));
  return catalog;
}

/** The CDN as the resolver sees it, issuing its token URLs on `mediaOrigin` instead of itself. */
function issuingOn(cdn: FakeCdn, mediaOrigin: string): FakeCdn {
  const base = new URL(mediaOrigin);
  return Object.assign(Object.create(cdn) as FakeCdn, {
    issue(path: string, faults?: CdnFaults): string {
      const issued = new URL(cdn.issue(path, faults));
      return new URL(`${issued.pathname}${issued.search}`, base).href;
    },
  });
}

async function main(): Promise<void> {
  const [mediaDir, cold = '0', mediaOrigin] = process.argv.slice(2);
  if (mediaDir === undefined) throw new TypeError('usage: origin.ts <mediaDir> <coldEpisodes> [<mediaOrigin>]');
  const cdn = await startFakeCdn({ mediaDir });
  const issuer = mediaOrigin === undefined ? cdn : issuingOn(cdn, mediaOrigin);
  const resolver = await startFakeResolver({ cdn: issuer, catalog: benchCatalog(Number(cold)) });
  process.stdout.write(`${JSON.stringify({ url: mediaOrigin ?? cdn.origin, resolver: resolver.url })}\n`);
  const stop = () => void Promise.all([cdn.close(), resolver.close()]).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1]?.endsWith('origin.ts')) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

// The origin of the benchmark, in a process of its own: the fake CDN over a media folder that
// main.ts prepared (a large file, a 1 MiB segment, a playlist), and the fake resolver whose
// catalog points at them. Prints one JSON line when both listen.
//   node --conditions=@strm/source --import tsx tools/bench/origin.ts <mediaDir> <coldEpisodes>
import { startFakeCdn, startFakeResolver, type CatalogEntry } from '@strm/e2e';

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

async function main(): Promise<void> {
  const [mediaDir, cold = '0'] = process.argv.slice(2);
  if (mediaDir === undefined) throw new TypeError('usage: origin.ts <mediaDir> <coldEpisodes>');
  const cdn = await startFakeCdn({ mediaDir });
  const resolver = await startFakeResolver({ cdn, catalog: benchCatalog(Number(cold)) });
  process.stdout.write(`${JSON.stringify({ url: cdn.origin, resolver: resolver.url })}\n`);
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

// The payload that the size figure of the README is measured on (the token test and
// scripts/measure-tokens.ts): a 500-character upstream URL, the three headers a hoster wants,
// a kind and an episode identity, with long JSON keys.
const url = `https://cdn-fra-17.example-provider.net/hls2/01/08321/${'x'.repeat(120)}/index-v1-a1.m3u8?t=${'AbCdEf0123456789_-'.repeat(20)}`.slice(0, 500);

export const realisticPayload = {
  url,
  headers: {
    Referer: 'https://voe.sx/e/abcdef123456',
    Origin: 'https://voe.sx',
    'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  },
  kind: 'segment',
  episode: { site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', s: 1, e: 3, lang: 'German Dub', provider: 'VOE' },
};

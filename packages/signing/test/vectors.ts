// The three test vectors of AniBridge-compatible entry URLs (docs/contract.md, "Signing"),
// computed with AniBridge's own algorithm, with the parameters they were computed from.
export const SIGNING_VECTORS = [
  {
    secret: 's3cr3t',
    params: { site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', s: 1, e: 3, lang: 'German Dub' },
    canonical: 'e=3&lang=German+Dub&s=1&site=aniworld.to&slug=rascal-does-not-dream-of-bunny-girl-senpai',
    sig: 'ead50965daf03da6260bd49a1030b01b371691d0bff6d844d8312fa1798a156c',
  },
  {
    secret: 's3cr3t',
    params: { site: 's.to', slug: '9-1-1', s: 1, e: 2, lang: 'German Dub', provider: 'VOE', exp: 1893456000 },
    canonical: 'e=2&exp=1893456000&lang=German+Dub&provider=VOE&s=1&site=s.to&slug=9-1-1',
    sig: 'ff4a2e930b5998020ae4b56f95cae18bda963cf7da036f24071cef547865cd33',
  },
  {
    secret: 'k',
    params: { site: 'aniworld.to', slug: 'a~b*c (d)/é', s: 0, e: 12, lang: 'English Sub' },
    canonical: 'e=12&lang=English+Sub&s=0&site=aniworld.to&slug=a~b%2Ac+%28d%29%2F%C3%A9',
    sig: 'b18d638995c1ce33ec737bc3628ca63f0bbb3bfcaf6360cd0767853676a77abc',
  },
] as const;

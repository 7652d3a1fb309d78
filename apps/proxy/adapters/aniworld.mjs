#!/usr/bin/env node
// strm resolver adapter for AniWorld-Downloader (the `aniworld` command, which AniBridge uses):
//   STRM_RESOLVER_COMMAND='node …/adapters/aniworld.mjs [--aniworld PATH] [--providers VOE,Filemoon,…]'
//
// strm passes the episode in STRM_SITE, STRM_SLUG, STRM_SEASON, STRM_EPISODE, STRM_LANGUAGE and
// STRM_PROVIDER. The script builds the episode page URL of the site, runs
//   aniworld -e <episode page URL> -L <language> -p <provider> -D
// and reads the direct link it prints under its "<Title> - S1E3 - (German Dub):" line. The
// provider is STRM_PROVIDER when the .strm URL names one, else each of --providers in turn
// (default VOE) until one gives a link. aniworld prints no headers, but some providers' CDNs
// refuse a request without their Referer/Origin: the table below adds them.
// Exit 2 (episode unknown) when no provider gives a link; 1 when aniworld fails otherwise.
// No dependencies: Node 20 and the aniworld command (pip install aniworld).
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EXIT_UNKNOWN = 2;
const EXIT_FAILED = 1;

/** Episode page URLs per site; season 0 holds the films. Slugs are the sites' own (letters, digits, hyphens). */
export const EPISODE_PAGES = {
  'aniworld.to': ({ slug, season, episode }) =>
    season === 0 ? `https://aniworld.to/anime/stream/${slug}/filme/film-${episode}` : `https://aniworld.to/anime/stream/${slug}/staffel-${season}/episode-${episode}`,
  's.to': ({ slug, season, episode }) =>
    season === 0 ? `https://s.to/serie/stream/${slug}/filme/film-${episode}` : `https://s.to/serie/stream/${slug}/staffel-${season}/episode-${episode}`,
};

/**
 * Request headers each provider's CDN expects, as AniWorld-Downloader's own provider table names
 * them for its downloads (its User-Agent entries are left out: it picks a random one per run,
 * which this script cannot know). Edit here when a provider moves.
 */
export const PROVIDER_HEADERS = {
  VOE: { Referer: 'https://voe.sx/', Origin: 'https://voe.sx' },
  Vidmoly: { Referer: 'https://vidmoly.biz/' },
  Doodstream: { Referer: 'https://dood.li/' },
  Filemoon: { Referer: 'https://filemoon.to/' },
  Luluvdo: { Referer: 'https://luluvdo.com/', Origin: 'https://luluvdo.com' },
};

const SLUG = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const HEADING = /^.* - S\d+E\d+ - \(.+\):\s*$/;
const isHttp = (text) => /^https?:\/\/\S+$/i.test(text);

/** The episode page URL for an identity, or `{ problem }`. */
export function episodePageUrl({ site, slug, season, episode }) {
  const page = EPISODE_PAGES[site];
  if (page === undefined) return { problem: `site ${JSON.stringify(site)} is not one of ${Object.keys(EPISODE_PAGES).join(', ')}` };
  if (!SLUG.test(slug)) return { problem: `slug ${JSON.stringify(slug.slice(0, 60))} is not a slug of ${site} (letters, digits, hyphens)` };
  if (!Number.isSafeInteger(season) || season < 0 || !Number.isSafeInteger(episode) || episode < 0) return { problem: 'season and episode must be whole numbers' };
  return { url: page({ slug, season, episode }) };
}

/**
 * The direct link in the output of `aniworld … -D`: the first URL line after a
 * `<Title> - S1E3 - (German Dub):` heading, or else the last URL line; undefined when there is none.
 */
export function directLinkOf(output) {
  const lines = output.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const heading = lines.findIndex((line) => HEADING.test(line));
  if (heading >= 0) {
    const after = lines.slice(heading + 1).find(isHttp);
    if (after !== undefined) return after;
  }
  return lines.filter(isHttp).at(-1);
}

/** The resolver contract's JSON object for a direct link of `provider`. */
export function resolutionFor(url, provider) {
  return { url, headers: { ...(PROVIDER_HEADERS[provider] ?? {}) }, provider };
}

function runAniworld(binary, args) {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout = (stdout + chunk).slice(-65_536);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-16_384);
    });
    child.once('error', (error) => resolve({ code: null, stdout: '', stderr: `could not run ${binary}: ${error.code ?? error.message}` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function optionValue(argv, name, fallback) {
  const index = argv.indexOf(name);
  return index >= 0 && argv[index + 1] !== undefined ? argv[index + 1] : fallback;
}

async function main(argv, env) {
  const identity = {
    site: env.STRM_SITE ?? '',
    slug: env.STRM_SLUG ?? '',
    season: Number(env.STRM_SEASON),
    episode: Number(env.STRM_EPISODE),
    language: env.STRM_LANGUAGE ?? '',
  };
  const page = episodePageUrl(identity);
  if (page.problem) {
    process.stderr.write(`${page.problem}\n`);
    return EXIT_UNKNOWN;
  }
  const binary = optionValue(argv, '--aniworld', 'aniworld');
  const providers = env.STRM_PROVIDER ? [env.STRM_PROVIDER] : optionValue(argv, '--providers', 'VOE').split(',').map((p) => p.trim()).filter((p) => p !== '');
  let failure;
  for (const provider of providers) {
    const run = await runAniworld(binary, ['-e', page.url, '-L', identity.language, '-p', provider, '-D']);
    const link = run.code === 0 ? directLinkOf(run.stdout) : undefined;
    if (link !== undefined) {
      process.stdout.write(`${JSON.stringify(resolutionFor(link, provider))}\n`);
      return 0;
    }
    const said = `${run.stderr}\n${run.stdout}`.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '').at(-1);
    process.stderr.write(`${provider}: ${run.code === 0 ? 'no direct link' : `aniworld exited ${run.code}`}${said ? ` (${said})` : ''}\n`);
    if (run.code !== 0) failure = run;
  }
  // A provider that failed may have had the episode: only "no link from every provider" means unknown.
  return failure === undefined ? EXIT_UNKNOWN : EXIT_FAILED;
}

// Run only as a program; tests import the functions above.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}

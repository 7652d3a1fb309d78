#!/usr/bin/env node
// strm resolver adapter for yt-dlp: STRM_RESOLVER_COMMAND='node …/adapters/yt-dlp.mjs PAGE_URL [yt-dlp options]'
//
// strm expands {site} {slug} {season} {episode} {language} {provider} inside PAGE_URL, runs this
// script without a shell, and reads one JSON line from it (the resolver contract: url, headers,
// provider, expiresAt). The script runs `yt-dlp -J` on the page and maps the chosen format:
// - a format with its own `url` plays as it is; an HLS format plays from its master playlist
//   (`manifest_url`), so that the player sees every rendition and strm rewrites them all;
// - separate video and audio formats (`requested_formats`) play from their common HLS master
//   playlist when they have one, else from the best format that carries both;
// - `http_headers` become the headers, yt-dlp's `cookies` a Cookie header, and an `expire=`
//   (Unix seconds) in the URL becomes expiresAt.
// Exit 2 (episode unknown) when yt-dlp finds no video on the page or the page is missing; 1 for
// anything else, with yt-dlp's last error line on stderr. No dependencies: Node 20 and yt-dlp.
// The yt-dlp binary is `yt-dlp` on PATH, or $STRM_YT_DLP.
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EXIT_UNKNOWN = 2;
const EXIT_FAILED = 1;
/** yt-dlp's -J for a big site is a few MB; more than this is not an answer. */
const MAX_INFO_BYTES = 64 * 1024 * 1024;
/** Headers that describe yt-dlp's own connection, not what the CDN needs. */
const DROPPED_HEADERS = new Set(['accept-encoding', 'connection', 'host', 'content-length']);
/** What yt-dlp says when there is nothing to play at that address. */
const UNKNOWN_PATTERNS = [/Unsupported URL/i, /HTTP Error 404/i, /HTTP Error 410/i, /Video unavailable/i, /This video is (?:unavailable|private)/i, /No video formats found/i];
const ATTRIBUTES = new Set(['domain', 'path', 'expires', 'max-age', 'secure', 'httponly', 'samesite', 'partitioned', 'version', 'comment', 'port', 'discard']);

const isHttp = (url) => typeof url === 'string' && /^https?:\/\//i.test(url);
const isHls = (format) => typeof format.protocol === 'string' && format.protocol.startsWith('m3u8');
const hasVideo = (format) => format.vcodec !== 'none';
const hasAudio = (format) => format.acodec !== 'none';

/**
 * The cookie pairs of yt-dlp's `cookies` field (Set-Cookie-like text: `a=1; Domain=.x; Path=/;
 * b=2; …`) as one Cookie header value, attributes left out.
 */
export function cookieHeader(cookies) {
  if (typeof cookies !== 'string' || cookies.trim() === '') return undefined;
  const pairs = [];
  for (const part of cookies.split(';')) {
    const text = part.trim();
    const equals = text.indexOf('=');
    const name = equals < 0 ? text : text.slice(0, equals).trim();
    if (equals <= 0 || ATTRIBUTES.has(name.toLowerCase())) continue;
    pairs.push(`${name}=${text.slice(equals + 1).trim()}`);
  }
  return pairs.length === 0 ? undefined : pairs.join('; ');
}

/** The instant in `expire=`/`expires=` (Unix seconds) of a URL's query or `/expire/<s>/` path, as ISO 8601. */
export function expiryOf(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const fromQuery = [...parsed.searchParams].find(([name]) => /^expires?$/i.test(name))?.[1];
  const seconds = fromQuery ?? /\/expire\/(\d{9,11})(?:\/|$)/.exec(parsed.pathname)?.[1];
  if (seconds === undefined || !/^\d{9,11}$/.test(seconds)) return undefined;
  return new Date(Number(seconds) * 1000).toISOString();
}

/**
 * Chooses what to play from yt-dlp's info dict: `{ url, format }` (the format carries the
 * headers and cookies), or `{ problem }` saying why nothing fits.
 */
export function chooseFormat(info) {
  if (isHttp(info?.url)) {
    const url = isHls(info) && isHttp(info.manifest_url) ? info.manifest_url : info.url;
    return { url, format: info };
  }
  const requested = Array.isArray(info?.requested_formats) ? info.requested_formats : [];
  if (requested.length > 0) {
    const manifests = new Set(requested.map((format) => (isHls(format) && isHttp(format.manifest_url) ? format.manifest_url : undefined)));
    const [manifest] = manifests;
    if (manifests.size === 1 && manifest !== undefined) return { url: manifest, format: requested.find(hasVideo) ?? requested[0] };
    // yt-dlp lists formats from worst to best.
    const muxed = (Array.isArray(info.formats) ? info.formats : []).filter((format) => hasVideo(format) && hasAudio(format) && isHttp(format.url) && format.vcodec !== undefined);
    const best = muxed.at(-1);
    if (best) return { url: isHls(best) && isHttp(best.manifest_url) ? best.manifest_url : best.url, format: best };
    return { problem: 'yt-dlp chose separate video and audio files and no format carries both; add -f "b" (best single file) after the page URL' };
  }
  return { problem: 'yt-dlp found no playable URL in its answer' };
}

/** The resolver contract's JSON object for yt-dlp's info dict, or `{ problem }`. */
export function resolutionFromInfo(info) {
  if (info?._type === 'playlist') {
    const first = Array.isArray(info.entries) ? info.entries.find((entry) => entry) : undefined;
    return first ? resolutionFromInfo(first) : { problem: 'the page is a playlist without entries' };
  }
  const chosen = chooseFormat(info);
  if (chosen.problem) return chosen;
  const headers = {};
  const given = { ...(info?.http_headers ?? {}), ...(chosen.format.http_headers ?? {}) };
  for (const [name, value] of Object.entries(given)) {
    if (typeof value === 'string' && !DROPPED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  const cookie = cookieHeader(chosen.format.cookies ?? info?.cookies);
  if (cookie !== undefined) {
    const existing = Object.keys(headers).find((name) => name.toLowerCase() === 'cookie');
    if (existing !== undefined) headers[existing] = `${headers[existing]}; ${cookie}`;
    else headers.Cookie = cookie;
  }
  const resolution = { url: chosen.url, headers };
  if (typeof info?.extractor_key === 'string' && info.extractor_key !== '') resolution.provider = info.extractor_key;
  const expiresAt = expiryOf(chosen.format.url ?? chosen.url) ?? expiryOf(chosen.url);
  if (expiresAt !== undefined) resolution.expiresAt = expiresAt;
  return resolution;
}

/** Runs yt-dlp -J and collects its output (bounded) and the tail of its stderr. */
function runYtDlp(binary, args) {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    let size = 0;
    let stderr = '';
    let tooLarge = false;
    child.stdout.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_INFO_BYTES) {
        tooLarge = true;
        child.kill('SIGKILL');
      } else chunks.push(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-16_384);
    });
    child.once('error', (error) => resolve({ code: null, stdout: '', stderr: `could not run ${binary}: ${error.code ?? error.message}`, tooLarge }));
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(chunks).toString('utf8'), stderr, tooLarge }));
  });
}

function lastErrorLine(stderr) {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  return [...lines].reverse().find((line) => line.startsWith('ERROR')) ?? lines.at(-1) ?? 'no error output';
}

async function main(argv, env) {
  const [page, ...options] = argv;
  if (page === undefined || page === '--help' || page === '-h') {
    process.stderr.write('usage: yt-dlp.mjs PAGE_URL [yt-dlp options…]   (PAGE_URL with strm placeholders, e.g. https://videos.example/{slug}/{season}x{episode})\n');
    return EXIT_FAILED;
  }
  if (!isHttp(page)) {
    process.stderr.write(`page URL must be http(s); received ${JSON.stringify(page.slice(0, 60))}\n`);
    return EXIT_UNKNOWN;
  }
  // `--` ends the options: whatever a slug holds, the page URL is never read as an option.
  const args = ['--ignore-config', '--no-cache-dir', '--no-playlist', '--no-progress', '-J', ...options, '--', page];
  const run = await runYtDlp(env.STRM_YT_DLP || 'yt-dlp', args);
  if (run.tooLarge) {
    process.stderr.write(`yt-dlp printed more than ${MAX_INFO_BYTES} bytes\n`);
    return EXIT_FAILED;
  }
  if (run.code !== 0) {
    process.stderr.write(`${lastErrorLine(run.stderr)}\n`);
    return UNKNOWN_PATTERNS.some((pattern) => pattern.test(run.stderr)) ? EXIT_UNKNOWN : EXIT_FAILED;
  }
  let info;
  try {
    info = JSON.parse(run.stdout);
  } catch {
    process.stderr.write(`yt-dlp exited 0 but its output is not JSON (${run.stdout.length} characters)\n`);
    return EXIT_FAILED;
  }
  const resolution = resolutionFromInfo(info);
  if (resolution.problem) {
    process.stderr.write(`${resolution.problem}\n`);
    return EXIT_UNKNOWN;
  }
  process.stdout.write(`${JSON.stringify(resolution)}\n`);
  return 0;
}

// Run only as a program; tests import the functions above.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}

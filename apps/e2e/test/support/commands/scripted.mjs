// A resolver command for the resolver-command suite, steered by the episode's slug:
// - "unknown": exits 2 (episode unknown);
// - "broken": exits 1 with an error line holding a token, which must not reach the proxy's log;
// - "hang": starts a child, writes both pids to $RUN_LOG, and never ends;
// - anything else: appends {argv, refresh, slug, secret} to $RUN_LOG (secret: whether the proxy's
//   STRM_PROXY_SECRET reached it, which it must not) and prints entry N of the JSON array
//   in $URL_LIST, N being the number of runs before this one (the last entry once they run out).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

const { RUN_LOG, URL_LIST, STRM_SLUG: slug, STRM_REFRESH: refresh } = process.env;
if (slug === 'unknown') {
  process.stderr.write(`no episode ${slug}\n`);
  process.exit(2);
}
if (slug === 'broken') {
  process.stderr.write('Traceback (most recent call last):\nRuntimeError: provider answered 500 for https://cdn.example/x.m3u8?token=SECRET-TOKEN\n');
  process.exit(1);
}
if (slug === 'hang') {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  appendFileSync(RUN_LOG, `${JSON.stringify({ hang: true, pid: process.pid, childPid: child.pid })}\n`);
  setInterval(() => {}, 60_000);
} else {
  const runs = existsSync(RUN_LOG) ? readFileSync(RUN_LOG, 'utf8').split('\n').filter((line) => line !== '').length : 0;
  appendFileSync(RUN_LOG, `${JSON.stringify({ argv: process.argv.slice(2), refresh, slug, secret: process.env.STRM_PROXY_SECRET !== undefined })}\n`);
  const urls = JSON.parse(readFileSync(URL_LIST, 'utf8'));
  process.stdout.write(`${urls[Math.min(runs, urls.length - 1)]}\n`);
}

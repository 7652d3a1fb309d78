#!/usr/bin/env node
// `strm-proxy` inside the container image: the published CLI (/app/bin/strm-proxy.js, which runs
// the compiled dist), plus `demo`, which only the image and a clone of the repository have: the
// demo serves fixture media from a fake CDN that lives in the private apps/e2e, not in the npm
// package. The demo bundle imports the same compiled @strm/proxy that `serve` runs.
const [command] = process.argv.slice(2);
if (command === 'demo') {
  await import('/app/demo/dist/demo.js');
} else {
  await import('/app/bin/strm-proxy.js');
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write('  strm-proxy demo             (this image) a fake CDN, a static resolver and the proxy, printing playable URLs\n');
  }
}

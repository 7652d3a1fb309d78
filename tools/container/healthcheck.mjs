// The image's HEALTHCHECK: GET /healthz on the proxy's own port, exit 0 on a 2xx, 1 otherwise.
// Node's fetch, because the base image has no curl or wget. Loopback, unless HOST names one
// address other than the wildcard: then that address is the only one the proxy listens on.
const host = !process.env.HOST || process.env.HOST === '0.0.0.0' || process.env.HOST === '::' ? '127.0.0.1' : process.env.HOST;
const url = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${process.env.PORT || 8080}/healthz`);
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exitCode = response.ok ? 0 : 1;
  if (!response.ok) console.error(`healthcheck: ${url} answered ${response.status}`);
} catch (error) {
  console.error(`healthcheck: ${url} failed: ${error.cause?.code ?? error.message}`);
  process.exitCode = 1;
}

// The real proxy alone in a child process (started by `startChildProxy`), so that its memory can
// be measured apart from the test's own: the compiled proxy (`@strm/proxy` without the source
// condition resolves to apps/proxy/dist), as production runs it, in plain JavaScript so that no
// TypeScript loader sits in the figures; configured by the environment like the CLI, logging JSON
// lines to stdout, answering memory questions over IPC. Run with `node --expose-gc`.
import { createLogger, loadConfig, startProxy, disableIncrementalMarking, TurnBatchedLines } from '@strm/proxy';

// As `strm-proxy serve` runs: V8's incremental marking on for a minute and until the first media
// request, then as the load asks; log lines written once per turn of the event loop.
disableIncrementalMarking();
const config = loadConfig(process.env);
const lines = new TurnBatchedLines(process.stdout);
process.on('exit', () => lines.end());
const proxy = await startProxy(config, { logger: createLogger(config.logLevel, lines) });
const gc = globalThis.gc;
if (gc === undefined) throw new Error('proxy-process: run node with --expose-gc');

// Peak RSS between two questions: sampled, since the OS only keeps the peak of the whole life.
let peakRss = process.memoryUsage.rss();
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 25).unref();

const reply = (id, answer) => process.send({ id, ...answer });

process.on('message', (question) => {
  switch (question.kind) {
    case 'memory': {
      // Twice: the first pass may only finalize what the second can free.
      gc();
      gc();
      const usage = process.memoryUsage();
      reply(question.id, { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers });
      break;
    }
    case 'usage': {
      const usage = process.memoryUsage();
      reply(question.id, { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers });
      break;
    }
    case 'peak-reset':
      peakRss = process.memoryUsage.rss();
      reply(question.id, { peakRss });
      break;
    case 'peak':
      reply(question.id, { peakRss: Math.max(peakRss, process.memoryUsage.rss()) });
      break;
    case 'close':
      void proxy.close(1000).then(() => {
        reply(question.id, {});
        process.disconnect();
      });
      break;
  }
});
process.send({ id: 0, url: proxy.url });

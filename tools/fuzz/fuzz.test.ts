import { expect, test } from 'vitest';
import { failuresOf, KNOWN_PROBLEMS } from './expectations';
import { formatFuzzReport, runFuzz } from './run';

// The short mode of the fuzz, as CI runs it (README): seed 2 is the one whose hostile origin
// answered 416 to a link without Range, which the proxy passed on as an empty 416.
test('short fuzz (seed 2): the proxy stays up, never hangs, answers every error with its JSON, /healthz keeps answering', async () => {
  const report = await runFuzz({ seed: 2, requests: 900, playlists: 120, manifests: 40, concurrency: 4, scale: 'short' });
  console.log(formatFuzzReport(report));
  expect(failuresOf(report, KNOWN_PROBLEMS)).toEqual([]);
  expect(report.requests).toBeGreaterThan(1100);
  expect(report.playlists + report.manifests).toBe(160);
  expect(report.links).toBeGreaterThan(50);
  expect(report.healthz.failures).toBe(0);
  // Loose: a loaded 2-core runner. The long run's figure is the one that speaks (README).
  expect(report.healthz.p99Ms).toBeLessThan(3000);
});

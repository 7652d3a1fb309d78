import { expect, test } from 'vitest';
import { formatSoakReport, runSoak } from './run';

// The short mode of the soak, as CI runs it (README): every byte checked, nothing failed, the
// proxy alive, and its descriptors back to where they were once the load is over.
test('short soak (seed 1, 12 s): every body is the right bytes, nothing fails, descriptors return to their baseline', async () => {
  const report = await runSoak({ seed: 1, seconds: 12, concurrency: 6, sampleEveryMs: 500 });
  console.log(formatSoakReport(report));
  expect(report.failureExamples).toEqual([]);
  expect(report.failures).toBe(0);
  expect(report.alive).toBe(true);
  expect(report.tasks.range).toBeGreaterThan(0);
  expect(report.tasks.hls).toBeGreaterThan(0);
  expect(report.bytesVerified).toBeGreaterThan(10e6);
  expect(report.samples.length).toBeGreaterThan(5);
  expect(report.fds.after).toBeLessThanOrEqual(report.fds.before + 4);
});

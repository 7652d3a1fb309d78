// What a fuzz run must show to pass: the proxy alive, no hang, no silent close, no error that is not
// its JSON, nothing unforeseen. KNOWN_PROBLEMS lists kinds whose fix is under way: they are printed
// but do not fail the run (README, "Known problems"); none is left.
import type { FuzzReport } from './run';
import type { Problem } from './verdict';

/** Problem kinds reported but not failed on, until their fix lands (empty once it has). */
export const KNOWN_PROBLEMS: readonly Problem[] = [];

/** Why a run failed, one reason per entry; empty when it passed. */
export function failuresOf(report: FuzzReport, known: readonly Problem[]): string[] {
  const failures: string[] = [];
  if (!report.alive) failures.push('the proxy process exited');
  if (report.unexpectedFailures > 0) failures.push(`${report.unexpectedFailures} unexpected failures in the proxy's log`);
  for (const [problem, { count }] of Object.entries(report.problems) as [Problem, { count: number }][]) {
    if (!known.includes(problem)) failures.push(`${count} × ${problem}`);
  }
  return failures;
}

// Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where the time went: the functions
// with the most self time, and the share of each package (or of Node itself).
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle: the shares below are of this. */
  busyMs: number;
  /**
   * Inclusive time (the function and all it called) of the request path's own layers: the proxy,
   * Express and its router, the logger, the metrics. What a request costs beyond moving bytes.
   */
  requestPath: { name: string; where: string; ms: number; share: number }[];
  /** Self time by function, largest first. */
  functions: { name: string; where: string; ms: number; share: number }[];
  /** Self time by owner: a workspace package, an npm package, `node` (its own JS), or `(native)` (GC, idle, syscalls). */
  owners: { owner: string; ms: number; share: number }[];
}

function ownerOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node';
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm) return pnpm[1]!;
  const workspace = /\/(apps|packages)\/([^/]+)\/(?:src|dist)\//.exec(url);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return plain ? plain[1]! : url.replace(/^file:\/\//, '');
}

/** Owners whose inclusive time is the request path's (see `ProfileSummary.requestPath`). */
const REQUEST_PATH = /^(apps\/|packages\/|express$|router$|pino$|prom-client$|finalhandler$)/;

const whereOf = (url: string, lineNumber: number) =>
  url === '' ? '' : `${url.replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^file:\/\/.*?\/(apps|packages|tools)\//, '$1/')}:${lineNumber + 1}`;

/** Inclusive time per function (counted once per sample however deep it recurses). */
function inclusiveTimes(profile: CpuProfile, msPerSample: number): Map<string, { name: string; where: string; ms: number; owner: string }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, { name: string; where: string; ms: number; owner: string }>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      const name = functionName || '(anonymous)';
      const where = whereOf(url, lineNumber);
      const key = `${name}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? { name, where, ms: 0, owner: ownerOf(url, name) };
      entry.ms += hits * msPerSample;
      totals.set(key, entry);
    }
  }
  return totals;
}

/** Summarises one profile; `top` functions are listed. */
export async function summariseProfile(path: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const samples = profile.samples.length || 1;
  const msPerSample = totalMs / samples;
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  const owners = new Map<string, number>();
  let idleMs = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idleMs += hits * msPerSample;
      continue;
    }
    const where = whereOf(url, lineNumber);
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, ms: 0 };
    entry.ms += hits * msPerSample;
    functions.set(key, entry);
    const owner = ownerOf(url, name);
    owners.set(owner, (owners.get(owner) ?? 0) + hits * msPerSample);
  }
  const busyMs = Math.max(totalMs - idleMs, msPerSample);
  const requestPath = [...inclusiveTimes(profile, msPerSample).values()]
    .filter((entry) => REQUEST_PATH.test(entry.owner))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map(({ owner: _owner, ...entry }) => ({ ...entry, share: entry.ms / busyMs }));
  return {
    totalMs,
    busyMs,
    requestPath,
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((f) => ({ ...f, share: f.ms / busyMs })),
    owners: [...owners.entries()].map(([owner, ms]) => ({ owner, ms, share: ms / busyMs })).sort((a, b) => b.ms - a.ms),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `proxy CPU profile: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(summary.busyMs / 1000).toFixed(1)} s busy (shares below are of the busy time)`,
    '',
    'self time by owner:',
  ];
  for (const owner of summary.owners.filter((o) => o.share >= 0.005)) lines.push(`  ${pct(owner.share)}  ${owner.owner}`);
  lines.push('', 'self time by function:');
  for (const fn of summary.functions) lines.push(`  ${pct(fn.share)}  ${fn.name}  ${fn.where}`);
  lines.push('', 'inclusive time of the request path (the proxy, express, router, pino, prom-client):');
  for (const fn of summary.requestPath) lines.push(`  ${pct(fn.share)}  ${fn.name}  ${fn.where}`);
  return lines.join('\n');
}

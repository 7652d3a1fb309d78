// Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where the time went: the functions
// with the most self time, and the share of each package (or of Node itself).
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileSummary {
  totalMs: number;
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
  const workspace = /\/(apps|packages)\/([^/]+)\/src\//.exec(url);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return plain ? plain[1]! : url.replace(/^file:\/\//, '');
}

/** Summarises one profile; `top` functions are listed. */
export async function summariseProfile(path: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const samples = profile.samples.length || 1;
  const msPerSample = totalMs / samples;
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  const owners = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url === '' ? '' : `${url.replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^file:\/\/.*?\/(apps|packages|tools)\//, '$1/')}:${lineNumber + 1}`;
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, ms: 0 };
    entry.ms += hits * msPerSample;
    functions.set(key, entry);
    const owner = ownerOf(url, name);
    owners.set(owner, (owners.get(owner) ?? 0) + hits * msPerSample);
  }
  return {
    totalMs,
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((f) => ({ ...f, share: f.ms / totalMs })),
    owners: [...owners.entries()].map(([owner, ms]) => ({ owner, ms, share: ms / totalMs })).sort((a, b) => b.ms - a.ms),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [`proxy CPU profile: ${(summary.totalMs / 1000).toFixed(1)} s sampled`, '', 'self time by owner:'];
  for (const owner of summary.owners.filter((o) => o.share >= 0.005)) {
    lines.push(`  ${(owner.share * 100).toFixed(1).padStart(5)}%  ${owner.owner}`);
  }
  lines.push('', 'self time by function:');
  for (const fn of summary.functions) lines.push(`  ${(fn.share * 100).toFixed(1).padStart(5)}%  ${fn.name}  ${fn.where}`);
  return lines.join('\n');
}

// deploy/systemd: the unit verified by systemd itself (systemd-analyze verify), its hardening, and
// its environment file against the variables the proxy reads.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configVariables, deployDir, envFileEntries, readText, repoRoot } from './support';

const unitText = readText(join(deployDir, 'systemd', 'strm-proxy.service'));
const scratch = mkdtempSync(join(tmpdir(), 'strm-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `Key=value` settings of one section (a key may repeat). */
function section(name: string): Map<string, string[]> {
  const body = new RegExp(`^\\[${name}\\]\\n([\\s\\S]*?)(?=^\\[|$(?![\\s\\S]))`, 'm').exec(unitText)?.[1] ?? '';
  const settings = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) settings.set(match[1]!, [...(settings.get(match[1]!) ?? []), match[2]!]);
  }
  return settings;
}

/** Runs systemd-analyze verify on a unit text; returns its exit status and everything it printed. */
function verify(text: string, file = 'strm-proxy.service'): { status: number | null; output: string } {
  const path = join(scratch, file);
  writeFileSync(path, text);
  const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe('systemd unit', () => {
  const service = section('Service');

  it('starts the globally installed bin, which npm links to the package bin running dist', () => {
    expect(service.get('ExecStart')).toEqual(['/usr/local/bin/strm-proxy serve']);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'apps/proxy/package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['strm-proxy']).toBe('./bin/strm-proxy.js');
    expect(readText(join(repoRoot, 'apps/proxy/bin/strm-proxy.js'))).toContain("import('../dist/cli.js')");
  });

  it('has the hardening the README promises', () => {
    expect(service.get('EnvironmentFile')).toEqual(['/etc/strm-proxy.env']);
    for (const [key, value] of [['DynamicUser', 'yes'], ['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'], ['Restart', 'on-failure'], ['CapabilityBoundingSet', '']]) {
      expect(service.get(key!), key).toEqual([value]);
    }
    // V8 compiles to memory it then executes: MemoryDenyWriteExecute=yes would kill node at start.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    // The proxy drains for up to 10 s after SIGTERM: systemd must not SIGKILL it before.
    expect(Number(/^(\d+)s$/.exec(service.get('TimeoutStopSec')?.[0] ?? '')?.[1])).toBeGreaterThan(10);
    expect(section('Install').get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('its environment file sets only variables the proxy reads, and no secret', () => {
    const entries = envFileEntries(readText(join(deployDir, 'systemd', 'strm-proxy.env')));
    for (const name of entries.keys()) expect(configVariables, name).toContain(name);
    expect(entries.get('STRM_PROXY_SECRET')).toBe('');
  });

  it('systemd-analyze verify accepts it, and rejects a broken copy', () => {
    // verify also checks that ExecStart is executable: point it at this checkout's bin, the file
    // npm links to /usr/local/bin/strm-proxy, instead of a global install this machine lacks.
    const bin = join(repoRoot, 'apps/proxy/bin/strm-proxy.js');
    const local = unitText.replace('ExecStart=/usr/local/bin/strm-proxy serve', `ExecStart=${bin} serve`);
    expect(local).not.toBe(unitText);
    expect(verify(local)).toEqual({ status: 0, output: '' });
    // The same check fails on a typo (systemd would ignore the setting and start unprotected).
    const broken = verify(local.replace('ProtectSystem=strict', 'ProtectSystem=strictly'), 'strm-proxy-broken.service');
    expect(broken.output).toMatch(/Failed to parse protect system value, ignoring: strictly/);
  });

  it('systemd-analyze is installed (CI installs the systemd package)', () => {
    expect(execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' })).toMatch(/^systemd \d+/);
  });
});

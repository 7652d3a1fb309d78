// The compose examples under deploy/compose: each parsed and interpolated the way compose does,
// then checked for what the README promises of it (services, ports, the hardened strm service,
// environment names the proxy reads). `docker compose config` also validates them against the
// compose schema where the compose plugin is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables, deployDir, envFileEntries, interpolate, MissingVariableError, readText, repoRoot } from './support';

interface Service {
  image?: string;
  build?: string | { context: string };
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  network_mode?: string;
  depends_on?: string[];
  read_only?: boolean;
  user?: string;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
  init?: boolean;
  volumes?: string[];
  command?: string[];
  deploy?: { replicas?: number | string };
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
}

const SECRET = 'test-secret-from-dotenv';
const layouts = ['jellyfin', 'vpn', 'replicas'] as const;

/** The file as compose sees it with its .env.example copied to .env and the required values filled in. */
function load(layout: (typeof layouts)[number], overrides: Record<string, string> = {}): ComposeFile {
  const dir = join(deployDir, 'compose', layout);
  const env = envFileEntries(readText(join(dir, '.env.example')));
  for (const [name, value] of env) if (value === '') env.set(name, `${name.toLowerCase()}-value`);
  env.set('STRM_PROXY_SECRET', SECRET);
  for (const [name, value] of Object.entries(overrides)) env.set(name, value);
  return interpolate(parse(readText(join(dir, 'compose.yaml'))), env) as ComposeFile;
}

const seconds = (duration: string | undefined): number => Number(/^(\d+)s$/.exec(duration ?? '')?.[1] ?? 0);

/** What every strm service of every layout must be: the image's hardening, the shared secret, known variables. */
function expectHardenedStrm(layout: (typeof layouts)[number], strm: Service | undefined): void {
  expect(strm, `${layout}: a strm service`).toBeDefined();
  const context = typeof strm!.build === 'string' ? strm!.build : strm!.build?.context;
  expect(existsSync(join(resolve(deployDir, 'compose', layout, context ?? '.'), 'Dockerfile')), `${layout}: build context holds the Dockerfile`).toBe(true);
  expect(strm!.image).toBe('strm-proxy:local');
  expect(strm).toMatchObject({ read_only: true, user: '10001:10001', cap_drop: ['ALL'], init: true });
  expect(strm!.security_opt).toContain('no-new-privileges:true');
  // The proxy drains for up to 10 s after SIGTERM: compose must not kill it before.
  expect(seconds(strm!.stop_grace_period)).toBeGreaterThan(10);
  expect(strm!.environment?.STRM_PROXY_SECRET).toBe(SECRET);
  for (const name of Object.keys(strm!.environment ?? {})) expect(configVariables, `${layout}: ${name} is a variable the proxy reads`).toContain(name);
}

/** `http://host:port` of a URL variable, checked to be a service of the file (or loopback). */
function urlHost(value: string | undefined): string {
  return new URL(value ?? 'http://missing').hostname;
}

describe('compose examples', () => {
  it.each(layouts)('%s: STRM_PROXY_SECRET is required, never a literal in the file', (layout) => {
    expect(() => load(layout, { STRM_PROXY_SECRET: '' })).toThrow(MissingVariableError);
    expect(readText(join(deployDir, 'compose', layout, 'compose.yaml'))).toMatch(/STRM_PROXY_SECRET: \$\{STRM_PROXY_SECRET:\?/);
  });

  it('jellyfin: strm, the resolver placeholder and Jellyfin; strm on 8080, Jellyfin on 8096', () => {
    const file = load('jellyfin');
    expect(Object.keys(file.services).sort()).toEqual(['jellyfin', 'resolver', 'strm']);
    const { strm, jellyfin, resolver } = file.services;
    expectHardenedStrm('jellyfin', strm);
    expect(strm!.ports).toEqual(['8080:8080']);
    expect(Object.keys(file.services)).toContain(urlHost(strm!.environment?.STRM_RESOLVER_URL));
    expect(resolver!.expose).toEqual([new URL(strm!.environment!.STRM_RESOLVER_URL!).port]);
    expect(jellyfin!.ports).toEqual(['8096:8096']);
    expect(jellyfin!.volumes?.some((volume) => volume.endsWith(':/media:ro'))).toBe(true);
  });

  it('vpn: the resolver and strm share the VPN container network, Jellyfin stays outside', () => {
    const file = load('vpn');
    expect(Object.keys(file.services).sort()).toEqual(['jellyfin', 'resolver', 'strm', 'vpn']);
    const { vpn, resolver, strm, jellyfin } = file.services;
    expectHardenedStrm('vpn', strm);
    expect(strm!.network_mode).toBe('service:vpn');
    expect(resolver!.network_mode).toBe('service:vpn');
    // A container in another's namespace cannot publish ports: strm's port is the VPN container's.
    expect(strm!.ports).toBeUndefined();
    expect(vpn!.ports).toEqual(['8080:8080']);
    expect(vpn!.cap_add).toContain('NET_ADMIN');
    expect(vpn!.image).toMatch(/^qmcgaw\/gluetun:v\d/);
    expect(urlHost(strm!.environment?.STRM_RESOLVER_URL)).toBe('127.0.0.1');
    expect(jellyfin!.network_mode).toBeUndefined();
    expect(jellyfin!.ports).toEqual(['8096:8096']);
  });

  it('replicas: N strm behind nginx least_conn, sharing one Redis', () => {
    const file = load('replicas');
    expect(Object.keys(file.services).sort()).toEqual(['nginx', 'redis', 'resolver', 'strm']);
    const { strm, redis, nginx } = file.services;
    expectHardenedStrm('replicas', strm);
    expect(Number(strm!.deploy?.replicas)).toBe(3);
    expect(Number(load('replicas', { STRM_REPLICAS: '5' }).services.strm!.deploy?.replicas)).toBe(5);
    // Replicas publish nothing (N containers cannot share a host port); nginx is the entry.
    expect(strm!.ports).toBeUndefined();
    expect(strm!.expose).toEqual(['8080']);
    expect(nginx!.ports).toEqual(['8080:8080']);
    const redisUrl = new URL(strm!.environment!.STRM_PROXY_REDIS_URL!);
    expect(redisUrl.hostname).toBe('redis');
    expect(redis!.expose).toEqual([redisUrl.port]);
    expect(redis!.command).toEqual(expect.arrayContaining(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']));

    const mount = nginx!.volumes?.find((volume) => volume.endsWith(':/etc/nginx/nginx.conf:ro'));
    expect(mount).toBeDefined();
    const conf = readText(join(deployDir, 'compose', 'replicas', mount!.split(':')[0]!));
    const upstream = /upstream (\w+) \{([^}]*)\}/.exec(conf);
    expect(upstream?.[2]).toMatch(/^\s*least_conn;/m);
    expect(upstream?.[2]).toMatch(/^\s*server strm:8080 /m);
    expect(conf).toMatch(new RegExp(`proxy_pass http://${upstream?.[1]};`));
    expect(conf).toMatch(/^\s*listen 8080;/m);
    expect(conf).toMatch(/proxy_buffering off;/);
  });

  it.each(layouts)('%s: every ${VARIABLE} it uses is in its .env.example or has a default', (layout) => {
    const dir = join(deployDir, 'compose', layout);
    const documented = envFileEntries(readText(join(dir, '.env.example')));
    const used = [...readText(join(dir, 'compose.yaml')).matchAll(/\$\{([A-Z_][A-Z0-9_]*)(:?[-?])?/g)];
    for (const [, name, operator] of used) {
      if (operator === ':-' || operator === '-') continue;
      expect(documented.has(name!), `${layout}: ${name} in .env.example`).toBe(true);
    }
  });

  const compose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  it.skipIf(compose.status !== 0)('docker compose config accepts every layout', () => {
    for (const layout of layouts) {
      const dir = join(deployDir, 'compose', layout);
      execFileSync('docker', ['compose', '--env-file', join(dir, '.env.example'), '-f', join(dir, 'compose.yaml'), 'config', '--quiet'], {
        cwd: repoRoot,
        env: { ...process.env, STRM_PROXY_SECRET: SECRET, VPN_SERVICE_PROVIDER: 'mullvad', WIREGUARD_PRIVATE_KEY: 'key' },
      });
    }
  });
});

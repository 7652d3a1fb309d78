import { describe, expect, test } from 'vitest';
import { checkUpstreamHost, classifyAddress, parseCidr, UpstreamAllowlist, UpstreamRefusedError } from '../src/address-guard';

// Pure classification: nothing here connects anywhere.
describe('classifyAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:a00:1::1', 'private'],
    ['2002:c0a8:101::1', 'private'],
    ['8.8.8.8', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['2002:808:808::1', 'public'],
  ])('classifyAddress(%j) is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  test.each(['example.com', '1.2.3', '256.1.1.1', '', '::g'])('classifyAddress(%j) throws TypeError', (text) => {
    expect(() => classifyAddress(text)).toThrow(TypeError);
  });
});

describe('parseCidr', () => {
  test.each([
    ['10.0.0.0/8', true],
    ['fd00::/8', true],
    ['192.168.1.7/32', true],
    ['10.0.0.0/33', false],
    ['10.0.0.0', false],
    ['nope/8', false],
    ['::/129', false],
  ])('parseCidr(%j) is valid: %s', (text, valid) => {
    expect(parseCidr(text) !== undefined).toBe(valid);
  });
});

describe('UpstreamAllowlist', () => {
  const allowlist = new UpstreamAllowlist(['cdn.lan', '127.0.0.1', '10.8.0.0/16', 'fd00::/8']);
  test.each([
    ['host', 'cdn.lan', true],
    ['host', 'CDN.LAN', true],
    ['host', '127.0.0.1', true],
    ['host', 'localhost', false],
    ['host', 'other.lan', false],
    ['address', '10.8.3.4', true],
    ['address', '10.9.0.1', false],
    ['address', 'fd00::1', true],
    ['address', '127.0.0.1', false],
  ] as const)('%s %s allowed: %s', (kind, value, allowed) => {
    expect(kind === 'host' ? allowlist.allowsHost(value) : allowlist.allowsAddress(value)).toBe(allowed);
  });
});

describe('checkUpstreamHost (lookups are injected; nothing connects)', () => {
  const none = new UpstreamAllowlist([]);
  const table = (map: Record<string, string[]>) => async (host: string) =>
    (map[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  test('a public address is returned as the one to connect to', async () => {
    await expect(checkUpstreamHost('cdn.example', none, table({ 'cdn.example': ['93.184.215.14'] }))).resolves.toBe('93.184.215.14');
  });

  test.each([
    ['a name that resolves to loopback', 'evil.example', ['127.0.0.1']],
    ['a name that resolves to the metadata address', 'meta.example', ['169.254.169.254']],
    ['a name with one public and one private address', 'mixed.example', ['93.184.215.14', '10.0.0.5']],
    ['a name without addresses', 'empty.example', []],
  ])('%s is refused', async (_label, host, addresses) => {
    await expect(checkUpstreamHost(host, none, table({ [host]: addresses }))).rejects.toBeInstanceOf(UpstreamRefusedError);
  });

  test.each(['127.0.0.2', '::1', '0.0.0.0', '[::1]'])('the literal %s is refused without a lookup', async (host) => {
    const lookup = async () => {
      throw new Error('a literal must not be looked up');
    };
    await expect(checkUpstreamHost(host, none, lookup)).rejects.toBeInstanceOf(UpstreamRefusedError);
  });

  test('an allowlisted host may resolve to a private address', async () => {
    const allow = new UpstreamAllowlist(['nas.lan']);
    await expect(checkUpstreamHost('nas.lan', allow, table({ 'nas.lan': ['192.168.1.20'] }))).resolves.toBe('192.168.1.20');
  });

  test('an allowlisted CIDR admits its addresses, whatever the name', async () => {
    const allow = new UpstreamAllowlist(['192.168.1.0/24']);
    await expect(checkUpstreamHost('nas.lan', allow, table({ 'nas.lan': ['192.168.1.20'] }))).resolves.toBe('192.168.1.20');
    await expect(checkUpstreamHost('other.lan', allow, table({ 'other.lan': ['192.168.2.20'] }))).rejects.toBeInstanceOf(UpstreamRefusedError);
  });

  test('the real resolver: localhost resolves to loopback and is refused unless allowlisted', async () => {
    await expect(checkUpstreamHost('localhost', none)).rejects.toBeInstanceOf(UpstreamRefusedError);
    await expect(checkUpstreamHost('localhost', new UpstreamAllowlist(['localhost']))).resolves.toMatch(/^(127\.|::1)/);
  });
});

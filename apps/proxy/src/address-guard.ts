import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { upstreamReads } from './upstream-reads';

/** Why an address may not be fetched from; `public` is the only one that may. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'metadata'
  | 'reserved';

interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  if (isIP(text) !== 6) return undefined;
  let address = text.replace(/%.*$/, '');
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!);
    if (v4 === undefined) return undefined;
    address = `${address.slice(0, -dotted[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  if (groups.length !== 8) return undefined;
  return groups.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

/** Parses `10.0.0.0/8` or `fd00::/8`; undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || prefixText === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return prefix <= 32 ? { family: 4, bits: v4, prefix } : undefined;
  const v6 = parseIPv6(address.replace(/^\[|\]$/g, ''));
  if (v6 !== undefined) return prefix <= 128 ? { family: 6, bits: v6, prefix } : undefined;
  return undefined;
}

function inCidr(family: 4 | 6, value: bigint, cidr: Cidr): boolean {
  if (family !== cidr.family) return false;
  const width = family === 4 ? 32n : 128n;
  const shift = width - BigInt(cidr.prefix);
  return value >> shift === cidr.bits >> shift;
}

const range = (text: string): Cidr => parseCidr(text)!;

// The order matters: metadata before link-local, the narrow before the wide.
const IPV4_CLASSES: Array<[Cidr, AddressClass]> = [
  [range('169.254.169.254/32'), 'metadata'],
  [range('169.254.170.2/32'), 'metadata'],
  [range('100.100.100.200/32'), 'metadata'],
  [range('0.0.0.0/8'), 'unspecified'],
  [range('10.0.0.0/8'), 'private'],
  [range('100.64.0.0/10'), 'cgnat'],
  [range('127.0.0.0/8'), 'loopback'],
  [range('169.254.0.0/16'), 'link-local'],
  [range('172.16.0.0/12'), 'private'],
  [range('192.0.0.0/24'), 'reserved'],
  [range('192.0.2.0/24'), 'reserved'],
  [range('192.88.99.0/24'), 'reserved'],
  [range('192.168.0.0/16'), 'private'],
  [range('198.18.0.0/15'), 'reserved'],
  [range('198.51.100.0/24'), 'reserved'],
  [range('203.0.113.0/24'), 'reserved'],
  [range('224.0.0.0/4'), 'multicast'],
  [range('240.0.0.0/4'), 'reserved'],
];

const IPV6_CLASSES: Array<[Cidr, AddressClass]> = [
  [range('fd00:ec2::254/128'), 'metadata'],
  [range('::/128'), 'unspecified'],
  [range('::1/128'), 'loopback'],
  [range('100::/64'), 'reserved'],
  [range('2001:db8::/32'), 'reserved'],
  [range('fc00::/7'), 'private'],
  [range('fe80::/10'), 'link-local'],
  [range('fec0::/10'), 'private'],
  [range('ff00::/8'), 'multicast'],
];

// IPv6 forms that carry an IPv4 address, which is what decides: mapped, NAT64, 6to4.
const EMBEDDED_V4: Array<[Cidr, (value: bigint) => bigint]> = [
  [range('::ffff:0:0/96'), (value) => value & 0xffffffffn],
  [range('::/96'), (value) => value & 0xffffffffn],
  [range('64:ff9b::/96'), (value) => value & 0xffffffffn],
  [range('64:ff9b:1::/48'), (value) => value & 0xffffffffn],
  [range('2002::/16'), (value) => (value >> 80n) & 0xffffffffn],
];

function classifyIPv4(value: bigint): AddressClass {
  for (const [cidr, kind] of IPV4_CLASSES) if (inCidr(4, value, cidr)) return kind;
  if (value === 0xffffffffn) return 'reserved';
  return 'public';
}

/**
 * Classifies an IP address literal (no DNS). Anything that is not a plain public unicast address
 * is refused as an upstream unless allowlisted. A string that is not an IP address throws TypeError.
 *
 * @example
 * classifyAddress('169.254.169.254') // 'metadata'
 * classifyAddress('::ffff:10.0.0.1') // 'private'
 * classifyAddress('93.184.215.14')   // 'public'
 */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '');
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return classifyIPv4(v4);
  const v6 = parseIPv6(bare);
  if (v6 === undefined) throw new TypeError(`classifyAddress expects an IP address, got ${JSON.stringify(address)}`);
  for (const [cidr, kind] of IPV6_CLASSES) if (inCidr(6, v6, cidr)) return kind;
  for (const [cidr, extract] of EMBEDDED_V4) {
    if (inCidr(6, v6, cidr)) {
      const embedded = classifyIPv4(extract(v6));
      return embedded === 'public' && cidr.prefix === 96 && cidr.bits === 0n ? 'reserved' : embedded;
    }
  }
  return 'public';
}

/** The proxy refused to connect to an upstream address. */
export class UpstreamRefusedError extends Error {
  readonly code = 'STRM_UPSTREAM_REFUSED' as const;
  /** The class of the refused address, for the failure log; undefined when the host had no address. */
  readonly addressClass: AddressClass | undefined;
  constructor(message: string, addressClass?: AddressClass) {
    super(message);
    this.name = 'UpstreamRefusedError';
    this.addressClass = addressClass;
  }
}

export type LookupFunction = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The allowlist of docs/contract.md, "Limits": exact hosts (names or IP literals) and CIDRs of resolved addresses. */
export class UpstreamAllowlist {
  readonly #hosts: Set<string>;
  readonly #cidrs: Cidr[];

  constructor(entries: readonly string[]) {
    this.#hosts = new Set(entries.filter((entry) => !entry.includes('/')).map((entry) => entry.toLowerCase().replace(/^\[|\]$/g, '')));
    this.#cidrs = entries.filter((entry) => entry.includes('/')).map((entry) => {
      const cidr = parseCidr(entry);
      if (cidr === undefined) throw new TypeError(`not a CIDR: ${JSON.stringify(entry)}`);
      return cidr;
    });
  }

  allowsHost(hostname: string): boolean {
    return this.#hosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  allowsAddress(address: string): boolean {
    const v4 = parseIPv4(address);
    if (v4 !== undefined) return this.#cidrs.some((cidr) => inCidr(4, v4, cidr));
    const v6 = parseIPv6(address);
    return v6 !== undefined && this.#cidrs.some((cidr) => inCidr(6, v6, cidr));
  }
}

const systemLookup: LookupFunction = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Resolves a host and returns the address to connect to, refusing non-public addresses unless
 * the host or the address is allowlisted. Every resolved address must pass, so a name that
 * resolves to one public and one private address is refused (no DNS-rebinding lottery).
 */
export async function checkUpstreamHost(hostname: string, allowlist: UpstreamAllowlist, lookup: LookupFunction = systemLookup): Promise<string> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const hostAllowed = allowlist.allowsHost(bare);
  const addresses = isIP(bare) !== 0 ? [{ address: bare, family: isIP(bare) }] : await lookup(bare);
  if (addresses.length === 0) throw new UpstreamRefusedError(`the upstream host ${bare} has no address`);
  if (!hostAllowed) {
    for (const { address } of addresses) {
      const kind = classifyAddress(address);
      if (kind !== 'public' && !allowlist.allowsAddress(address)) {
        throw new UpstreamRefusedError(`the upstream host ${bare} resolves to a ${kind} address, which is refused (allowlist it with STRM_PROXY_UPSTREAM_ALLOWLIST if it is yours)`, kind);
      }
    }
  }
  return addresses[0]!.address;
}

/**
 * An undici connector that checks every connection (so every redirect hop too) after DNS
 * resolution and then connects to the very address it checked, so a second lookup cannot
 * return another one.
 */
export function createGuardedConnector(options: {
  allowlist: UpstreamAllowlist;
  timeoutMs: number;
  lookup?: LookupFunction;
}): buildConnector.connector {
  const common = { timeout: options.timeoutMs, keepAlive: true, keepAliveInitialDelay: 30_000 };
  // Plain sockets read as upstream-reads.ts decides; TLS hands its reader a record (16 KiB at
  // most) at a time, whatever the buffer, so its sockets keep Node's reads.
  const plain = buildConnector({ ...common, onread: upstreamReads });
  const secure = buildConnector(common);
  return (connectOptions, callback) => {
    checkUpstreamHost(connectOptions.hostname, options.allowlist, options.lookup).then(
      (address) => {
        const servername = connectOptions.servername ?? (isIP(connectOptions.hostname) === 0 ? connectOptions.hostname : undefined);
        const connect = connectOptions.protocol === 'https:' ? secure : plain;
        connect({ ...connectOptions, hostname: address, ...(servername ? { servername } : {}) }, callback);
      },
      (error: Error) => callback(error, null),
    );
  };
}

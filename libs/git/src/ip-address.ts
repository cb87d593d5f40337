import { isIPv4, isIPv6 } from 'node:net';

/**
 * Just enough IP arithmetic for the URL policy: parse the canonical notations that WHATWG URL
 * parsing and DNS produce, match CIDRs, and name the special-purpose ranges we refuse to fetch
 * from. Hand-rolled rather than `net.BlockList` because we need to see through IPv4 embedded in
 * IPv6 (mapped, 6to4, NAT64) and to say *which* range an address fell into.
 */

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface IpRange {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Parses dotted-quad IPv4 or IPv6 (optionally in brackets, zone id ignored); null otherwise. */
export function parseIp(text: string): IpAddress | null {
  let value = text.trim();
  const bracketed = value.startsWith('[') && value.endsWith(']');
  if (bracketed) value = value.slice(1, -1);
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  if (isIPv4(value) && !bracketed) return { family: 4, bytes: Uint8Array.from(value.split('.').map(Number)) };
  if (isIPv6(value)) return { family: 6, bytes: parseIPv6(value) };
  return null;
}

function parseIPv6(value: string): Uint8Array {
  let text = value;
  // An embedded dotted-quad tail (::ffff:1.2.3.4) is just the last two groups written differently.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const zeros = halves.length > 1 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<string>(zeros).fill('0'), ...tail].map((g) => parseInt(g, 16));
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** Parses `1.2.3.0/24`, `fc00::/7` or a bare address (a /32 or /128); null when malformed. */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!address) return null;
  const max = address.family === 4 ? 32 : 128;
  if (slash < 0) return { ...address, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= max ? { ...address, prefix } : null;
}

/** `::ffff:a.b.c.d` is the IPv4 host a.b.c.d as far as a socket is concerned. */
export function unmapIPv4(address: IpAddress): IpAddress {
  if (
    address.family === 6 &&
    address.bytes.slice(0, 10).every((b) => b === 0) &&
    address.bytes[10] === 0xff &&
    address.bytes[11] === 0xff
  ) {
    return { family: 4, bytes: address.bytes.slice(12) };
  }
  return address;
}

export function rangeContains(range: IpRange, candidate: IpAddress): boolean {
  const address = range.family === 4 ? unmapIPv4(candidate) : candidate;
  if (address.family !== range.family) return false;
  const fullBytes = Math.floor(range.prefix / 8);
  for (let i = 0; i < fullBytes; i++) if (address.bytes[i] !== range.bytes[i]) return false;
  const bits = range.prefix % 8;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((address.bytes[fullBytes] ?? 0) & mask) === ((range.bytes[fullBytes] ?? 0) & mask);
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) return address.bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i] ?? 0) << 8) | (address.bytes[i + 1] ?? 0));
  // RFC 5952: collapse the longest run (of two or more) of zero groups into '::'.
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

function range(cidr: string, label: string): { range: IpRange; label: string } {
  const parsed = parseIpRange(cidr);
  if (!parsed) throw new Error(`bad built-in range ${cidr}`);
  return { range: parsed, label };
}

// Everything a public git host cannot legitimately resolve to. Order matters: first match names it.
const SPECIAL_IPV4 = [
  range('0.0.0.0/8', 'unspecified ("this network")'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'carrier-grade NAT (shared)'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (includes cloud metadata)'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', 'reserved (6to4 relay)'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved (includes broadcast)'),
];

const SPECIAL_IPV6 = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::/96', 'IPv4-compatible (deprecated)'),
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  range('2001::/32', 'Teredo tunnel'),
  range('2001:db8::/32', 'documentation'),
  range('fc00::/7', 'unique-local (private)'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated)'),
  range('ff00::/8', 'multicast'),
];

const NAT64 = range('64:ff9b::/96', 'NAT64').range;
const SIX_TO_FOUR = range('2002::/16', '6to4').range;

/**
 * Names the special-purpose range an address belongs to, or null for an ordinary public
 * address. IPv4 carried inside IPv6 (mapped, NAT64, 6to4) is judged by the IPv4 it carries,
 * since that is where the packets end up.
 */
export function specialPurposeOf(candidate: IpAddress): string | null {
  const address = unmapIPv4(candidate);
  if (address.family === 4) return SPECIAL_IPV4.find((s) => rangeContains(s.range, address))?.label ?? null;
  if (rangeContains(NAT64, address)) return specialPurposeOf({ family: 4, bytes: address.bytes.slice(12) });
  if (rangeContains(SIX_TO_FOUR, address)) return specialPurposeOf({ family: 4, bytes: address.bytes.slice(2, 6) });
  return SPECIAL_IPV6.find((s) => rangeContains(s.range, address))?.label ?? null;
}

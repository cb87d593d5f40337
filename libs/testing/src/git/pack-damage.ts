import { createHash } from 'node:crypto';

/** Ways a server can damage the pack it sends, each a different check in git's index-pack/unpack-objects. */
export type PackDamage =
  /** Every object intact, the trailing SHA-1 wrong. */
  | 'bad-checksum'
  /** The first half of the pack, then a clean end of the response. */
  | 'truncated'
  /** A valid header, then random bytes (with a checksum that matches them). */
  | 'garbage-after-header'
  /** The first object's zlib stream scrambled (checksum recomputed, so only inflating fails). */
  | 'bad-object';

export const PACK_DAMAGES: readonly PackDamage[] = ['bad-checksum', 'truncated', 'garbage-after-header', 'bad-object'];

const PACK_HEADER_BYTES = 12;
const CHECKSUM_BYTES = 20;
const BAND_PACK = 1;
const BAND_PROGRESS = 2;
/** Largest side-band-64k payload, band byte included. */
const MAX_BAND_PAYLOAD = 65515;

/**
 * Rewrites an upload-pack response (v0 or v2, side-band-64k) so that its pack carries
 * `damage`; everything before the pack (NAK, `packfile`) is kept. Returns null when the
 * response holds no pack (an ls-refs answer), so the caller passes it through unchanged.
 */
export function damageUploadPackResponse(response: Buffer, damage: PackDamage, random: () => number): Buffer | null {
  const preamble: Buffer[] = [];
  const pack: Buffer[] = [];
  for (let at = 0; at + 4 <= response.length;) {
    const length = parseInt(response.subarray(at, at + 4).toString('latin1'), 16);
    if (!(length >= 4)) {
      at += 4; // flush, delimiter or response-end: re-added below
      continue;
    }
    const payload = response.subarray(at + 4, at + length);
    at += length;
    if (payload[0] === BAND_PACK) pack.push(payload.subarray(1));
    else if (payload[0] !== BAND_PROGRESS && pack.length === 0) preamble.push(pktLine(payload));
  }
  if (pack.length === 0) return null;
  const damaged = damagePack(Buffer.concat(pack), damage, random);
  const frames: Buffer[] = [];
  for (let at = 0; at < damaged.length; at += MAX_BAND_PAYLOAD - 1) {
    frames.push(pktLine(Buffer.concat([Buffer.from([BAND_PACK]), damaged.subarray(at, at + MAX_BAND_PAYLOAD - 1)])));
  }
  return Buffer.concat([...preamble, ...frames, Buffer.from('0000')]);
}

export function damagePack(pack: Buffer, damage: PackDamage, random: () => number): Buffer {
  const copy = Buffer.from(pack);
  switch (damage) {
    case 'bad-checksum':
      copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0xff;
      return copy;
    case 'truncated':
      return copy.subarray(0, Math.floor(copy.length / 2));
    case 'garbage-after-header': {
      const garbage = Buffer.alloc(Math.max(64, copy.length - PACK_HEADER_BYTES - CHECKSUM_BYTES));
      for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
      return withChecksum(Buffer.concat([copy.subarray(0, PACK_HEADER_BYTES), garbage]));
    }
    case 'bad-object': {
      // Skip the object header (a varint of type and size), keep the zlib header, scramble the data.
      let at = PACK_HEADER_BYTES;
      while ((copy[at] ?? 0) & 0x80) at++;
      const start = at + 1 + 2;
      for (let i = start; i < Math.min(start + 10, copy.length - CHECKSUM_BYTES); i++) copy[i] = (copy[i] ?? 0) ^ 0x55;
      return withChecksum(copy.subarray(0, copy.length - CHECKSUM_BYTES));
    }
  }
}

function withChecksum(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

export function pktLine(payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from((bytes.length + 4).toString(16).padStart(4, '0')), bytes]);
}

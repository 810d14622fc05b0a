import { createHash } from 'node:crypto';

/** Small seeded PRNG (mulberry32): fast, 32-bit state, good enough for fake data. */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the parts followed by a murmur finaliser: a stable 32-bit key for (seed, stream, i). */
export function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const s = typeof part === 'number' ? String(part) : part;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f; // separator so ('ab','c') != ('a','bc')
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function rngFor(...parts: Array<string | number>): Rng {
  return mulberry32(hash32(...parts));
}

const HEX = '0123456789abcdef';

export function hex(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += HEX[Math.floor(rng() * 16)];
  return out;
}

/** Cloudflare identifiers are 32 lowercase hex chars. */
export const hexId = (rng: Rng): string => hex(rng, 32);

/** Stable id derived from a name (permission groups, roles): same name, same id, in every run. */
export function nameId(name: string): string {
  return createHash('md5').update(name).digest('hex');
}

export function uuid(rng: Rng): string {
  const variant = HEX[8 + Math.floor(rng() * 4)];
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${variant}${hex(rng, 3)}-${hex(rng, 12)}`;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export const DAY_MS = 86_400_000;

/** ISO timestamp without milliseconds, the form Cloudflare uses in most IAM payloads. */
export function isoSec(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// Seeded byte and structure mutations. Every mutation is a pure function of (input bytes, rng) and
// returns the new bytes plus a description precise enough to read (offset, old -> new value).
export type Rng = () => number;

export interface Mutated {
  readonly bytes: Uint8Array;
  readonly description: string;
}

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)]!;

/** Values that break size arithmetic and bounds checks, plus neighbours of the original. */
export function interestingValue(rng: Rng, original: number, size: 1 | 2 | 4): number {
  const common = [0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 1000, 4096, 20000, 65535, 65536, 1 << 20, 1 << 24, 0x7fffffff, -1, -2, -128, -32768, -0x80000000];
  const near = [original + 1, original - 1, original * 2, original * 16, original * 1000, Math.floor(original / 2), -original];
  const random = size === 1 ? int(rng, 256) : size === 2 ? int(rng, 65536) : int(rng, 2 ** 32) | 0;
  const v = pick(rng, [...common, ...common, ...near, random]);
  if (size === 1) return v & 0xff;
  if (size === 2) return v & 0xffff;
  return v | 0;
}

export function readInt(bytes: Uint8Array, pos: number, size: 1 | 2 | 4, bigEndian = false): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return size === 1 ? view.getUint8(pos) : size === 2 ? view.getUint16(pos, !bigEndian) : view.getInt32(pos, !bigEndian);
}

export function writeInt(bytes: Uint8Array, pos: number, size: 1 | 2 | 4, value: number, bigEndian = false): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 1) view.setUint8(pos, value & 0xff);
  else if (size === 2) view.setUint16(pos, value & 0xffff, !bigEndian);
  else view.setInt32(pos, value | 0, !bigEndian);
}

/** Rewrite the integer at `pos` (little-endian unless `bigEndian`) with an interesting value. */
export function rewriteInt(bytes: Uint8Array, rng: Rng, pos: number, size: 1 | 2 | 4, what: string, bigEndian = false): Mutated {
  const out = bytes.slice();
  const old = readInt(out, pos, size, bigEndian);
  let value = interestingValue(rng, old, size);
  if (value === old) value = size === 4 ? (old + 1) | 0 : (old + 1) & (size === 1 ? 0xff : 0xffff);
  writeInt(out, pos, size, value, bigEndian);
  return { bytes: out, description: `int${8 * size} @${pos} (${what}) ${old} -> ${value}` };
}

/** Flip 1..8 random bits, anywhere in `[from, to)` (default: the whole input). */
export function bitFlips(bytes: Uint8Array, rng: Rng, from = 0, to = bytes.byteLength): Mutated {
  const out = bytes.slice();
  const n = 1 + int(rng, 8);
  const flips: string[] = [];
  for (let k = 0; k < n; k++) {
    const pos = from + int(rng, Math.max(1, to - from));
    if (pos >= out.byteLength) continue;
    const bit = int(rng, 8);
    out[pos]! ^= 1 << bit;
    flips.push(`${pos}.${bit}`);
  }
  return { bytes: out, description: `bit flips at ${flips.join(' ')}` };
}

/** Overwrite a run of 1..16 bytes with random or extreme bytes. */
export function byteRun(bytes: Uint8Array, rng: Rng): Mutated {
  const out = bytes.slice();
  const pos = int(rng, out.byteLength);
  const len = Math.min(1 + int(rng, 16), out.byteLength - pos);
  const fill = pick(rng, ['random', 0x00, 0xff, 0x7f, 0x80] as const);
  for (let k = 0; k < len; k++) out[pos + k] = fill === 'random' ? int(rng, 256) : fill;
  return { bytes: out, description: `${len} bytes @${pos} set to ${fill === 'random' ? 'random' : `0x${fill.toString(16)}`}` };
}

export function truncate(bytes: Uint8Array, rng: Rng): Mutated {
  // Half the time near the end (a cut download), otherwise anywhere.
  const len = rng() < 0.5 ? Math.max(0, bytes.byteLength - 1 - int(rng, 4096)) : int(rng, bytes.byteLength);
  return { bytes: bytes.slice(0, len), description: `truncated to ${len} of ${bytes.byteLength} bytes` };
}

export function append(bytes: Uint8Array, rng: Rng): Mutated {
  const len = pick(rng, [1, 3, 16, 1024, 65536]);
  const mode = pick(rng, ['random', 'zeros', 'copy'] as const);
  const out = new Uint8Array(bytes.byteLength + len);
  out.set(bytes);
  for (let k = 0; k < len; k++) out[bytes.byteLength + k] = mode === 'random' ? int(rng, 256) : mode === 'copy' ? bytes[k % bytes.byteLength]! : 0;
  return { bytes: out, description: `appended ${len} ${mode} bytes` };
}

/** Copy a chunk of the input over another place (duplicated headers, shifted tables). */
export function spliceCopy(bytes: Uint8Array, rng: Rng): Mutated {
  const out = bytes.slice();
  const len = 1 + int(rng, 64);
  const from = int(rng, Math.max(1, out.byteLength - len));
  const to = int(rng, Math.max(1, out.byteLength - len));
  out.copyWithin(to, from, from + len);
  return { bytes: out, description: `copied ${len} bytes from @${from} to @${to}` };
}

export const GENERIC_MUTATIONS = [bitFlips, byteRun, truncate, append, spliceCopy] as const;

export function genericMutation(bytes: Uint8Array, rng: Rng): Mutated {
  return pick(rng, GENERIC_MUTATIONS)(bytes, rng);
}

/** Apply 1 mutation, sometimes 2 or 3 in a row (descriptions joined with '; '). */
export function stacked(bytes: Uint8Array, rng: Rng, one: (b: Uint8Array, r: Rng) => Mutated): Mutated {
  const n = rng() < 0.8 ? 1 : 2 + int(rng, 2);
  let cur: Mutated = { bytes, description: '' };
  const parts: string[] = [];
  for (let k = 0; k < n; k++) {
    cur = one(cur.bytes, rng);
    parts.push(cur.description);
  }
  return { bytes: cur.bytes, description: parts.join('; ') };
}

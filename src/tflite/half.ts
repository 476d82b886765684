// IEEE 754 binary16 -> binary32, exact: every half value (subnormals, infinities
// and NaN) has an exact float32 value, so this is a lossless widening, not a rounding.

const EXP_SCALE = new Float64Array(32);
for (let e = 1; e < 31; e++) EXP_SCALE[e] = 2 ** (e - 15);

/** The float value of the binary16 bit pattern `h` (0..65535). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * EXP_SCALE[exp]!;
}

/** Decode `count` little-endian binary16 values starting at `bytes[0]`. */
export function decodeFloat16(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = halfToFloat(bytes[2 * i]! | (bytes[2 * i + 1]! << 8));
  return out;
}

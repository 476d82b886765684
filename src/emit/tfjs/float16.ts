// IEEE 754 binary16 encoding for tfjs weight storage. tfjs stores float16 weights as
// `quantization: {dtype: 'float16'}` and widens them to float32 at load; we only use that when
// every value of a tensor survives float32 -> float16 -> float32 bit for bit.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> binary16 bits, round to nearest even (overflow to infinity, NaN kept quiet). */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value = m * 2^-24; the float32 significand (with its hidden bit) shifts by 14 - e.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** binary16 bits -> float32 value (exact: every half is a float32). */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Encode `values` as binary16 if that is lossless, else return the index of the first value that
 * does not round-trip (so the caller can name it). -0 must stay -0; NaN never round-trips by bits.
 */
export function encodeFloat16Exact(values: Float32Array): { ok: true; halves: Uint16Array } | { ok: false; index: number } {
  const halves = new Uint16Array(values.length);
  const back = new Float32Array(1);
  const backBits = new Uint32Array(back.buffer);
  const orig = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const h = float32ToFloat16Bits(values[i]!);
    back[0] = float16BitsToFloat32(h);
    if (backBits[0] !== orig[i]) return { ok: false, index: i };
    halves[i] = h;
  }
  return { ok: true, halves };
}

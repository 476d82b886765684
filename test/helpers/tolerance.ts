// The tests' elementwise parity measure, |got - ref| / (1 + |ref|), and its bound (1e-4 unless a test says
// otherwise). The verifier has its own comparison (src/verify/compare.ts); this one is the tests' yardstick.
import { expect } from 'vitest';

export interface ScaledDiff {
  /** max |got - ref|; Infinity when either side holds a NaN. */
  maxAbs: number;
  /** max |got - ref| / (1 + |ref|), the quantity the tolerance bounds; Infinity when either side holds a NaN. */
  maxScaled: number;
  /** First index where maxScaled is reached (-1 for empty arrays). */
  worstIndex: number;
  /** Elements beyond the tolerance (a NaN on either side always counts). */
  failures: number;
  /** The first of them: 'index i: ref r, got g'. */
  firstFailure?: string;
}

/** Compare `got` with `ref` element by element; asserts that both have the same length. */
export function scaledDiff(ref: ArrayLike<number>, got: ArrayLike<number>, tol = 1e-4): ScaledDiff {
  expect(got.length, 'element count').toBe(ref.length);
  const c: ScaledDiff = { maxAbs: 0, maxScaled: 0, worstIndex: -1, failures: 0 };
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    let d = Math.abs(got[i]! - r);
    if (Number.isNaN(d)) d = Infinity; // NaN must fail every bound and stay the maximum
    const scaled = Number.isFinite(d) ? d / (1 + Math.abs(r)) : Infinity;
    // Both forms of the bound, so that a value on a rounding boundary fails if either form says so.
    if (!(d <= tol * (1 + Math.abs(r))) || !(scaled <= tol)) {
      c.failures++;
      c.firstFailure ??= `index ${i}: ref ${r}, got ${got[i]}`;
    }
    if (d > c.maxAbs) c.maxAbs = d;
    if (scaled > c.maxScaled || c.worstIndex < 0) {
      c.maxScaled = scaled;
      c.worstIndex = i;
    }
  }
  return c;
}

/** Just the largest scaled difference, for tests that bound it directly. */
export function maxScaledDiff(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  return scaledDiff(ref, got).maxScaled;
}

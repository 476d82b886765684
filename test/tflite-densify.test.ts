// DENSIFY (TFLite sparse format) and the exact float16 widening, on hand-made tensors.
import { describe, expect, it } from 'vitest';
import { densify, type SparsityFormat } from '../src/tflite/densify.js';
import { decodeFloat16, halfToFloat } from '../src/tflite/half.js';

const dense = (n: number) => ({ format: 'DENSE' as const, denseSize: n });
const csr = (segments: number[], indices: number[]) => ({ format: 'SPARSE_CSR' as const, denseSize: 0, segments, indices });

// 4x4 matrix with 2x2 blocks; block (1,0) is all zero and not stored.
const MATRIX = [1, 0, 2, 3, 0, 4, 0, 0, 0, 0, 5, 0, 0, 0, 0, 6];

describe('densify', () => {
  it('block-sparse 4x4 with 2x2 blocks, row-major inside blocks', () => {
    const sparsity: SparsityFormat = {
      traversalOrder: [0, 1, 2, 3],
      blockMap: [0, 1],
      dimMetadata: [dense(2), csr([0, 2, 3], [0, 1, 1]), dense(2), dense(2)],
    };
    const values = Float32Array.from([1, 0, 0, 4, 2, 3, 0, 0, 5, 0, 0, 6]);
    expect(Array.from(densify([4, 4], sparsity, values))).toEqual(MATRIX);
  });

  it('block-sparse with column-major traversal inside each block', () => {
    const sparsity: SparsityFormat = {
      traversalOrder: [0, 1, 3, 2],
      blockMap: [0, 1],
      dimMetadata: [dense(2), csr([0, 2, 3], [0, 1, 1]), dense(2), dense(2)],
    };
    const values = Float32Array.from([1, 0, 0, 4, 2, 0, 3, 0, 5, 0, 0, 6]);
    expect(Array.from(densify([4, 4], sparsity, values))).toEqual(MATRIX);
  });

  it('CSC: columns traversed first, rows sparse', () => {
    const sparsity: SparsityFormat = { traversalOrder: [1, 0], blockMap: [], dimMetadata: [dense(4), csr([0, 1, 2, 2, 4], [1, 0, 1, 2])] };
    const out = densify([3, 4], sparsity, Int32Array.from([8, 7, 9, 10]));
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out)).toEqual([0, 7, 0, 0, 8, 0, 0, 9, 0, 0, 0, 10]);
  });

  it('sparse first level and the MediaPipe layout (dense O,H,W + sparse I)', () => {
    expect(Array.from(densify([5], { traversalOrder: [0], blockMap: [], dimMetadata: [csr([0, 2], [2, 4])] }, Float32Array.from([3, 5])))).toEqual([0, 0, 3, 0, 5]);
    const sparsity: SparsityFormat = { traversalOrder: [0, 1, 2, 3], blockMap: [], dimMetadata: [dense(2), dense(1), dense(1), csr([0, 1, 3], [2, 0, 1])] };
    expect(Array.from(densify([2, 1, 1, 3], sparsity, Float32Array.from([-1, 2, 3])))).toEqual([0, 0, -1, 2, 3, 0]);
  });

  it('rejects inconsistent sparsity with a precise message', () => {
    const good = { traversalOrder: [0, 1], blockMap: [], dimMetadata: [dense(2), csr([0, 1, 2], [0, 1])] };
    const v = Float32Array.from([1, 2]);
    expect(Array.from(densify([2, 2], good, v))).toEqual([1, 0, 0, 2]);
    expect(() => densify([2, 2], { ...good, dimMetadata: [dense(2), csr([0, 1, 2], [0, 2])] }, v)).toThrow(/array_indices\[1\] = 2 is outside 0..1/);
    expect(() => densify([2, 2], { ...good, dimMetadata: [dense(2), csr([0, 2], [0, 1])] }, v)).toThrow(/array_segments has 2 entries, expected 3/);
    expect(() => densify([2, 2], { ...good, dimMetadata: [dense(3), csr([0, 1, 2], [0, 1])] }, v)).toThrow(/dense_size 3, expected 2/);
    expect(() => densify([2, 2], good, Float32Array.from([1, 2, 3]))).toThrow(/addresses 2 values, the buffer holds 3/);
    expect(() => densify([2, 2], { ...good, traversalOrder: [0, 0] }, v)).toThrow(/not a permutation/);
    expect(() => densify([3, 4], { traversalOrder: [0, 1, 2], blockMap: [0], dimMetadata: [dense(1), dense(4), dense(2)] }, v)).toThrow(/dividing dimension 0/);
  });
});

describe('halfToFloat', () => {
  it('known values, signed zero, infinities, NaN', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x3555)).toBe(0.333251953125);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('matches float32 bit construction for every normal half, and m * 2^-24 for subnormals', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      if (exp === 31) continue;
      if (exp === 0) {
        if (Math.abs(halfToFloat(h)) !== mant * 2 ** -24) throw new Error(`subnormal half 0x${h.toString(16)}: ${halfToFloat(h)}`);
        continue;
      }
      u32[0] = ((h & 0x8000) << 16) | ((exp - 15 + 127) << 23) | (mant << 13);
      if (halfToFloat(h) !== f32[0]) throw new Error(`half 0x${h.toString(16)}: ${halfToFloat(h)} != ${f32[0]}`);
    }
  });

  it('decodes little-endian bytes', () => {
    expect(Array.from(decodeFloat16(Uint8Array.from([0x00, 0x3c, 0x00, 0xc6, 0x80, 0x40]), 3))).toEqual([1, -6, 2.25]);
  });
});

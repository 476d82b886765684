// toModelBatch: the seed's x / 127.5 - 1 exactly, whatever path (aligned word reads or per byte) runs.
import { describe, expect, it } from 'vitest';
import { InputImageError } from '../src/errors.js';
import { toModelBatch } from '../src/image/pixels.js';

const expected = (v: number) => Math.fround(v / 127.5 - 1);

describe('toModelBatch', () => {
  it('normalizes every byte value exactly, on aligned and unaligned pixel buffers', () => {
    const width = 16;
    const height = 16; // 768 bytes: every value 0..255 three times
    const bytes = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7) % 256);
    const backing = new Uint8Array(bytes.length + 1);
    backing.set(bytes, 1);
    const unaligned = backing.subarray(1); // byteOffset 1: the per-byte path
    for (const data of [bytes, unaligned]) {
      const batch = toModelBatch([{ data, width, height }]);
      expect(batch.shape).toEqual([1, height, width, 3]);
      for (let i = 0; i < bytes.length; i++) expect(batch.data[i]).toBe(expected(bytes[i]!));
    }
  });

  it('stacks a batch and fills a given buffer of the right length instead of allocating', () => {
    const a = { data: new Uint8Array(12).fill(0), width: 2, height: 2 };
    const b = { data: new Uint8Array(12).fill(255), width: 2, height: 2 };
    const into = new Float32Array(24).fill(7);
    const batch = toModelBatch([a, b], into);
    expect(batch.data).toBe(into);
    expect(Array.from(into)).toEqual([...Array(12).fill(-1), ...Array(12).fill(1)]);
    expect(toModelBatch([a], into).data).not.toBe(into); // wrong length: a new buffer
  });

  it('refuses mismatched sizes and short pixel data with a typed error', () => {
    const a = { data: new Uint8Array(12), width: 2, height: 2 };
    expect(() => toModelBatch([a, { data: new Uint8Array(27), width: 3, height: 3 }])).toThrow(InputImageError);
    expect(() => toModelBatch([{ data: new Uint8Array(11), width: 2, height: 2 }])).toThrow(/expected 2x2x3/);
    expect(() => toModelBatch([])).toThrow(InputImageError);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDir } from '../src/fixtures.js';
import { decodeNpy, encodeNpy, npyHeader, NpyFormatError, pythonShapeRepr, readNpyFile, writeNpyFile } from '../src/npy.js';

const work = mkdtempSync(path.join(tmpdir(), 'npy-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
function f8(shape: number[]): Float64Array {
  return Float64Array.from({ length: size(shape) }, (_, i) => i / 7);
}
function f4(shape: number[]): Float32Array {
  return Float32Array.from({ length: size(shape) }, (_, i) => i / 7);
}
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
/** A v1.0 file with an arbitrary header text (padded like numpy) and data bytes. */
function craft(dict: string, data: Uint8Array = new Uint8Array(0), align = 64): Uint8Array {
  const pad = align - ((10 + dict.length + 1) % align);
  const text = dict + ' '.repeat(pad) + '\n';
  const out = new Uint8Array(10 + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(ascii(text), 10);
  out.set(data, 10 + text.length);
  return out;
}
function npyError(fn: () => unknown): NpyFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NpyFormatError);
    return err as NpyFormatError;
  }
  throw new Error('expected an NpyFormatError');
}

// Shapes chosen to cover 0-d, 1-d, empty axes, and a header long enough to need a second 64-byte block.
const SHAPES: number[][] = [[], [0], [5], [896, 4], [2304, 4], [2, 3, 4], [3, 0], Array(20).fill(1), [1234567, 0]];

describe('npy writer', () => {
  it('formats shapes like Python tuples', () => {
    expect([[], [5], [896, 4], [2, 3, 4]].map(pythonShapeRepr)).toEqual(['()', '(5,)', '(896, 4)', '(2, 3, 4)']);
  });

  it('pads headers to 64 bytes with spaces, a newline last, growth room for the first axis', () => {
    for (const shape of SHAPES) {
      const h = npyHeader('<f8', shape);
      expect(h.length % 64, pythonShapeRepr(shape)).toBe(0);
      expect(h[h.length - 1]).toBe(0x0a);
      expect(new DataView(h.buffer).getUint16(8, true)).toBe(h.length - 10);
      const text = Buffer.from(h.subarray(10)).toString('latin1');
      expect(text.startsWith(`{'descr': '<f8', 'fortran_order': False, 'shape': ${pythonShapeRepr(shape)}, }`)).toBe(true);
      expect(text.trimEnd().endsWith('}')).toBe(true);
    }
    // 20-d shape: 10 + 133-byte dict + newline does not fit 128 bytes.
    expect(npyHeader('<f8', Array(20).fill(1)).length).toBe(192);
    expect(npyHeader('<f8', [896, 4]).length).toBe(128);
  });

  it('round-trips float64 and float32 arrays through decode', () => {
    for (const shape of SHAPES) {
      const a = decodeNpy(encodeNpy(f8(shape), shape));
      expect(a).toMatchObject({ dtype: '<f8', shape, version: [1, 0] });
      expect(Array.from(a.data)).toEqual(Array.from(f8(shape)));
      const b = decodeNpy(encodeNpy(f4(shape), shape));
      expect(b.dtype).toBe('<f4');
      expect(b.data).toBeInstanceOf(Float32Array);
      expect(Array.from(b.data)).toEqual(Array.from(f4(shape)));
    }
    const special = Float64Array.from([Number.NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE]);
    const back = decodeNpy(encodeNpy(special, [6])).data;
    expect(Object.is(back[3], -0)).toBe(true);
    expect(Array.from(back)).toEqual(Array.from(special));
  });

  it('writes little-endian data right after the header', () => {
    const bytes = encodeNpy(Float64Array.from([1, -2]), [2]);
    expect(bytes.length).toBe(128 + 16);
    expect(Array.from(bytes.subarray(128, 136))).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    expect(Array.from(bytes.subarray(136))).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0]);
  });

  it('rejects a shape that does not match the data', () => {
    expect(npyError(() => encodeNpy(new Float64Array(6), [4, 2])).code).toBe('NPY_BAD_SHAPE');
    expect(npyError(() => encodeNpy(new Float64Array(6), [-2, -3])).code).toBe('NPY_BAD_SHAPE');
    expect(npyError(() => encodeNpy(new Float64Array(3), [1.5, 2])).code).toBe('NPY_BAD_SHAPE');
  });

  it('writes atomically and reads back from disk (no temporary files left)', async () => {
    const dir = path.join(work, 'atomic');
    const file = path.join(dir, 'x.npy');
    const bytes = await writeNpyFile(file, f8([3, 4]), [3, 4]);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    expect(readdirSync(dir)).toEqual(['x.npy']);
    const a = await readNpyFile(file);
    expect(a.shape).toEqual([3, 4]);
  });

  const seed = seedDir();
  it.skipIf(!seed)(`header equals the seed's numpy-written anchors.npy header${seed ? '' : ' [skipped: needs ../shared/seed]'}`, () => {
    const seedBytes = new Uint8Array(readFileSync(path.join(seed!, 'anchors.npy')));
    const h = npyHeader('<f8', [896, 4]);
    expect(Buffer.from(seedBytes.subarray(0, h.length)).equals(Buffer.from(h))).toBe(true);
    expect(seedBytes.length).toBe(h.length + 896 * 4 * 8);
  });
});

describe('npy reader errors', () => {
  const ok = encodeNpy(f8([2, 3]), [2, 3]);

  it('bad magic', () => {
    const e = npyError(() => decodeNpy(ascii('PK\x03\x04 not numpy at all'), 'x.npy'));
    expect([e.code, e.offset, e.file]).toEqual(['NPY_BAD_MAGIC', 0, 'x.npy']);
    expect(e.message).toMatch(/^x\.npy @0: /);
  });
  it('unsupported version', () => {
    const b = ok.slice();
    b[6] = 9;
    expect(npyError(() => decodeNpy(b)).code).toBe('NPY_UNSUPPORTED_VERSION');
  });
  it('truncated header and truncated data', () => {
    expect(npyError(() => decodeNpy(ok.subarray(0, 9))).code).toBe('NPY_TRUNCATED');
    expect(npyError(() => decodeNpy(ok.subarray(0, 100))).code).toBe('NPY_TRUNCATED');
    const e = npyError(() => decodeNpy(ok.subarray(0, ok.length - 1), 'cut.npy'));
    expect([e.code, e.offset]).toEqual(['NPY_TRUNCATED', 128]);
    expect(e.message).toMatch(/needs 48 data bytes, found 47/);
  });
  it('trailing bytes', () => {
    const b = new Uint8Array(ok.length + 8);
    b.set(ok);
    expect(npyError(() => decodeNpy(b)).code).toBe('NPY_SIZE_MISMATCH');
  });
  it('unsupported dtype, Fortran order, structured dtype', () => {
    expect(npyError(() => decodeNpy(craft("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)))).code).toBe('NPY_UNSUPPORTED_DTYPE');
    expect(npyError(() => decodeNpy(craft("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(8)))).code).toBe('NPY_FORTRAN_ORDER');
    expect(npyError(() => decodeNpy(craft("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)))).code).toBe('NPY_UNSUPPORTED_DTYPE');
  });
  it('malformed header dicts', () => {
    for (const dict of [
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, }",
      "{'descr': '<f8', 'fortran_order': False}",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1, }",
      "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }",
      "['descr']",
    ]) {
      expect(npyError(() => decodeNpy(craft(dict, new Uint8Array(16)))).code, dict).toBe('NPY_BAD_HEADER');
    }
  });
  it('accepts older 16-byte aligned headers, double quotes and Python 2 long suffixes', () => {
    const b = craft(`{"descr": "<f8", "fortran_order": False, "shape": (2L, 1L)}`, new Uint8Array(16), 16);
    expect(b.length).toBe(80 + 16);
    expect(decodeNpy(b).shape).toEqual([2, 1]);
  });
  it('names the file when reading from disk', async () => {
    await expect(readNpyFile(path.join(work, 'missing.npy'))).rejects.toThrow(/ENOENT/);
    const bad = path.join(work, 'bad.npy');
    await writeNpyFile(bad, new Float64Array(1), [1]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(bad, ascii('garbage'));
    await expect(readNpyFile(bad)).rejects.toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} @0: not a .npy file`));
  });
});

// numpy itself as the reference, when a Python with numpy is installed.
function numpyAvailable(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import numpy'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next interpreter
    }
  }
  return null;
}
const python = numpyAvailable();

describe.skipIf(!python)(`byte-exactness against numpy.save${python ? '' : ' [skipped: needs python3 with numpy]'}`, () => {
  const dir = path.join(work, 'numpy');
  const specs = [
    ...SHAPES.map((shape, i) => ({ name: `f8_${i}`, dtype: '<f8', shape, fortran: false })),
    ...SHAPES.map((shape, i) => ({ name: `f4_${i}`, dtype: '<f4', shape, fortran: false })),
    { name: 'be', dtype: '>f8', shape: [2, 3], fortran: false },
    { name: 'be4', dtype: '>f4', shape: [4], fortran: false },
    { name: 'i4', dtype: '<i4', shape: [2], fortran: false },
    { name: 'fortran', dtype: '<f8', shape: [2, 3], fortran: true },
  ];
  beforeAll(() => {
    execFileSync(
      python!,
      [
        '-c',
        `import json, os, sys, numpy as np
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
for s in json.loads(sys.argv[2]):
    n = int(np.prod(s['shape']))
    a = (np.arange(n) / 7).astype(s['dtype']).reshape(tuple(s['shape']))
    if s['fortran']: a = np.asfortranarray(a)
    np.save(os.path.join(d, s['name'] + '.npy'), a)`,
        dir,
        JSON.stringify(specs),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  });
  const file = (name: string) => new Uint8Array(readFileSync(path.join(dir, `${name}.npy`)));

  it('writes the same bytes as numpy.save for every test shape (float64 and float32)', () => {
    SHAPES.forEach((shape, i) => {
      expect(Buffer.from(encodeNpy(f8(shape), shape)).equals(Buffer.from(file(`f8_${i}`))), `f8 ${pythonShapeRepr(shape)}`).toBe(true);
      expect(Buffer.from(encodeNpy(f4(shape), shape)).equals(Buffer.from(file(`f4_${i}`))), `f4 ${pythonShapeRepr(shape)}`).toBe(true);
    });
  });
  it('reads big-endian files and rejects int32 and Fortran-ordered ones', () => {
    const be = decodeNpy(file('be'));
    expect(be).toMatchObject({ dtype: '>f8', shape: [2, 3] });
    expect(Array.from(be.data)).toEqual(Array.from(f8([2, 3])));
    expect(Array.from(decodeNpy(file('be4')).data)).toEqual(Array.from(f4([4])));
    expect(npyError(() => decodeNpy(file('i4'))).code).toBe('NPY_UNSUPPORTED_DTYPE');
    expect(npyError(() => decodeNpy(file('fortran'))).code).toBe('NPY_FORTRAN_ORDER');
  });
});

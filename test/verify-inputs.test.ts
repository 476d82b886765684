// The verifier's inputs: the tfjs-models face parsed from its package, deterministic random images, one batch.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputImageError } from '../src/errors.js';
import { seedDir } from '../src/fixtures.js';
import { getPreset } from '../src/presets/index.js';
import { loadTfjsModelsFace, loadVerifyInputs, prepareInputs, randomImage, TFJS_FACE_NAME } from '../src/verify/inputs.js';
import { mulberry32 } from '../src/util/random.js';

const tmp: string[] = [];
afterAll(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

describe('tfjs-models face', () => {
  it('is parsed from the installed package: 128x128 RGB of a real photo', async () => {
    const { image, origin } = await loadTfjsModelsFace();
    expect(image.width).toBe(128);
    expect(image.height).toBe(128);
    expect(image.data.length).toBe(128 * 128 * 3);
    expect(origin).toMatch(/^@tensorflow-models\/blazeface@\d+\.\d+\.\d+ dist\/test_util\.js stubbedImageVals/);
    // A photo, not noise or a constant: wide value range and strong correlation between neighbours.
    const d = image.data;
    expect(Math.max(...d) - Math.min(...d)).toBeGreaterThan(200);
    let diff = 0;
    for (let i = 3; i < d.length; i++) diff += Math.abs(d[i]! - d[i - 3]!);
    expect(diff / d.length).toBeLessThan(20);
  });

  it('gives a typed error naming the file when the array is malformed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tfjs-face-'));
    tmp.push(dir);
    await mkdir(path.join(dir, 'dist'));
    await writeFile(path.join(dir, 'package.json'), '{"version":"0.0.1"}');
    await writeFile(path.join(dir, 'dist', 'test_util.js'), 'exports.stubbedImageVals = [1, 2, 3];');
    await expect(loadTfjsModelsFace(dir)).rejects.toThrow(InputImageError);
    await expect(loadTfjsModelsFace(dir)).rejects.toThrow(/test_util\.js: stubbedImageVals has 3 values, expected 49152/);
    await writeFile(path.join(dir, 'dist', 'test_util.js'), 'nothing here');
    await expect(loadTfjsModelsFace(dir)).rejects.toThrow(/no 'stubbedImageVals = \[\.\.\.\]' array found/);
  });
});

describe('random inputs', () => {
  it('mulberry32 is deterministic and spread over [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });

  it('the same seed and index give the same bytes; indices differ', async () => {
    const a = await randomImage(7, 0, 128, 128);
    expect(Buffer.from(a.data).equals(Buffer.from((await randomImage(7, 0, 128, 128)).data))).toBe(true);
    expect(Buffer.from(a.data).equals(Buffer.from((await randomImage(7, 2, 128, 128)).data))).toBe(false);
    const smooth = await randomImage(7, 1, 192, 192);
    expect([smooth.width, smooth.height]).toEqual([192, 192]);
  });
});

describe('loadVerifyInputs + prepareInputs', () => {
  it('lists seed photos (when present), the tfjs-models face and n random inputs, then one batch per preset', async () => {
    const inputs = await loadVerifyInputs({ randomCount: 3 });
    const photos = seedDir() ? ['1face.png', '3faces.png', '4faces.png'] : [];
    expect(inputs.map((i) => i.name)).toEqual([...photos, TFJS_FACE_NAME, 'random-0', 'random-1', 'random-2']);
    for (const preset of ['short_range', 'full_range'] as const) {
      const p = getPreset(preset);
      const { images, batch } = await prepareInputs(inputs, p);
      expect(batch.shape).toEqual([inputs.length, p.inputHeight, p.inputWidth, 3]);
      expect(images.every((im) => im.width === p.inputWidth && im.height === p.inputHeight)).toBe(true);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of batch.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(-1);
      expect(hi).toBeLessThanOrEqual(1);
    }
  });

  it('honours seedPhotos: false and tfjsFace: false', async () => {
    const inputs = await loadVerifyInputs({ randomCount: 1, seedPhotos: false, tfjsFace: false });
    expect(inputs.map((i) => [i.name, i.kind])).toEqual([['random-0', 'random']]);
  });
});

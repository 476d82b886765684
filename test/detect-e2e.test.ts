// End to end with the reference backend (float64 oracle, reads only the .tflite): the seed's photos give
// the seed's 1, 3 and 0 faces; letterboxed inputs map back to the same place; bad images are named.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, type Detector } from '../src/detect/detector.js';
import { drawDetections } from '../src/detect/draw.js';
import type { Face } from '../src/detect/face.js';
import { InputImageError } from '../src/errors.js';
import { seedDir, SEED_PHOTOS } from '../src/fixtures.js';
import { decodeRgb } from '../src/image/pixels.js';

const SEED = seedDir();
if (!SEED) console.warn('detect-e2e: seed folder absent (../shared/seed or BLAZEFACE_SEED_DIR); skipping the seed photo tests');

let detector: Detector;
let dir: string;
beforeAll(async () => {
  detector = await createDetector({ preset: 'short_range', backend: 'reference', minScore: 0.75, nms: 'blend' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'detect-e2e-'));
});
afterAll(async () => {
  await detector?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function centre(f: Face): { x: number; y: number } {
  return { x: (f.box.xMin + f.box.xMax) / 2, y: (f.box.yMin + f.box.yMax) / 2 };
}

describe.skipIf(!SEED)('seed photos with short_range, minScore 0.75, blend', () => {
  const photo = (name: string) => path.join(SEED!, name);

  it('finds 1, 3 and 0 faces', async () => {
    const counts = [];
    for (const name of SEED_PHOTOS) counts.push((await detector.detect(photo(name))).length);
    expect(counts).toEqual([1, 3, 0]);
  });

  it('gives faces in pixels, keypoints inside the box, and the seed-order 17 numbers', async () => {
    const [face] = await detector.detect(photo('1face.png'));
    const { box, keypoints, score } = face!;
    expect(score).toBeGreaterThanOrEqual(0.75);
    expect(box.xMax - box.xMin).toBeGreaterThan(10);
    for (const p of [keypoints.rightEye, keypoints.leftEye, keypoints.nose, keypoints.mouth]) {
      expect(p.x).toBeGreaterThan(box.xMin);
      expect(p.x).toBeLessThan(box.xMax);
      expect(p.y).toBeGreaterThan(box.yMin);
      expect(p.y).toBeLessThan(box.yMax);
    }
    // The person's right eye is on the image's left.
    expect(keypoints.rightEye.x).toBeLessThan(keypoints.leftEye.x);
    const a = face!.toArray();
    expect(a).toHaveLength(17);
    expect(a[0]! * 128).toBeCloseTo(box.yMin, 9);
    expect(a[1]! * 128).toBeCloseTo(box.xMin, 9);
    expect(a[2]! * 128).toBeCloseTo(box.yMax, 9);
    expect(a[3]! * 128).toBeCloseTo(box.xMax, 9);
    expect(a[8]! * 128).toBeCloseTo(keypoints.nose.x, 9);
    expect(a[9]! * 128).toBeCloseTo(keypoints.nose.y, 9);
    expect(a[16]).toBe(score);
    // The JSON form carries the public fields (keypointList and roll were added for users who expect an
    // array of named keypoints and a rotation); the normalized numbers stay private (toArray()).
    expect(Object.keys(JSON.parse(JSON.stringify(face)))).toEqual(['box', 'keypoints', 'keypointList', 'score', 'roll', 'rollDegrees']);
    expect(Object.keys(JSON.parse(JSON.stringify(face.box)))).toEqual(['xMin', 'yMin', 'xMax', 'yMax', 'width', 'height']);
  });

  it('detectBatch equals one detect per image', async () => {
    const batch = await detector.detectBatch(SEED_PHOTOS.map(photo));
    for (const [i, name] of SEED_PHOTOS.entries()) {
      const entry = batch[i]!;
      expect(entry.ok).toBe(true);
      if (!entry.ok) continue;
      const single = await detector.detect(photo(name));
      expect(entry.faces.map((f) => f.toArray())).toEqual(single.map((f) => f.toArray()));
    }
  });

  it('finds 1face.png pasted into a black 192x128 canvas within 6 px of the unpadded result', async () => {
    const [ref] = await detector.detect(photo('1face.png'));
    const left = 40;
    const canvas = await sharp({ create: { width: 192, height: 128, channels: 3, background: '#000' } })
      .composite([{ input: photo('1face.png'), left, top: 0 }])
      .png()
      .toBuffer();
    const faces = await detector.detect(new Uint8Array(canvas));
    expect(faces).toHaveLength(1);
    const f = faces[0]!;
    const got = [f.box.xMin, f.box.yMin, f.box.xMax, f.box.yMax, f.keypoints.nose.x, f.keypoints.nose.y];
    const want = [ref!.box.xMin + left, ref!.box.yMin, ref!.box.xMax + left, ref!.box.yMax, ref!.keypoints.nose.x + left, ref!.keypoints.nose.y];
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(6));
    // toArray is normalized over the 192x128 input.
    expect(f.toArray()[1]! * 192).toBeCloseTo(f.box.xMin, 9);
  });

  it('runs a batch where one image is bad: that entry names it, the others still return', async () => {
    const bad = path.join(dir, 'not-an-image.png');
    await writeFile(bad, 'hello, I am text\n');
    const batch = await detector.detectBatch([photo('1face.png'), bad, photo('3faces.png')]);
    expect(batch.map((e) => e.ok)).toEqual([true, false, true]);
    const [a, b, c] = batch;
    if (!a!.ok || b!.ok || !c!.ok) throw new Error('unexpected entry kinds');
    expect(a!.faces).toHaveLength(1);
    expect(c!.faces).toHaveLength(3);
    expect(b!.input).toBe(bad);
    expect(b!.error).toBeInstanceOf(InputImageError);
    expect(b!.error.message).toContain(bad);
  });

  it('draws boxes and keypoints onto a PNG of the same size', async () => {
    const rgb = await decodeRgb(photo('3faces.png'));
    const faces = await detector.detect(photo('3faces.png'));
    const pngBytes = await drawDetections(rgb, faces);
    const { data, info } = await sharp(pngBytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([128, 128]);
    let changed = 0;
    for (let i = 0; i < data.length; i++) if (data[i] !== rgb.data[i]) changed++;
    expect(changed).toBeGreaterThan(100);
    // Pixels far from every box are untouched.
    const corner = (127 * 128 + 127) * 3;
    const inAnyBox = faces.some((f) => f.box.xMax >= 125 && f.box.yMax >= 125);
    if (!inAnyBox) expect(data[corner]).toBe(rgb.data[corner]);
  });
});

describe('detector with bad inputs (reference backend)', () => {
  it('rejects a 0x0 raw image, NaN floats and a truncated PNG with typed errors naming the input', async () => {
    await expect(detector.detect({ data: new Uint8Array(0), width: 0, height: 0, label: 'empty-frame' })).rejects.toMatchObject({
      name: 'InputImageError',
      code: 'IMAGE_SIZE',
      file: 'empty-frame',
    });
    const nan = new Float32Array(128 * 128 * 3).fill(Number.NaN);
    await expect(detector.detect({ data: nan, width: 128, height: 128, label: 'nan-frame' })).rejects.toMatchObject({ code: 'IMAGE_NAN', file: 'nan-frame' });
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#333' } }).png().toBuffer();
    const file = path.join(dir, 'truncated.png');
    await writeFile(file, png.subarray(0, 40));
    await expect(detector.detect(file)).rejects.toThrow(file);
  });

  it('accepts raw RGBA and letterboxes odd sizes without faces on a flat image', async () => {
    const rgba = new Uint8Array(300 * 200 * 4).fill(90);
    expect(await detector.detect({ data: rgba, width: 300, height: 200, channels: 4 })).toEqual([]);
  });

  it('a batch of only bad images returns only error entries', async () => {
    const batch = await detector.detectBatch([new Uint8Array(0), { data: new Uint8Array(5), width: 1, height: 1 }]);
    expect(batch.map((e) => [e.ok, e.input])).toEqual([
      [false, '<buffer #0>'],
      [false, '<raw 1x1 #1>'],
    ]);
  });
});

// The fast preprocessing path (one sharp pipeline: decode + orient + shrink, no ICC pass when it is
// the identity) must give the faces of the exact path (full decode, then letterbox): same counts, box
// corners within 1 % of the face size, scores within 0.01, on the seed photos, enlarged/padded seeds and
// 1920x1280 / 3840x2560 JPEGs with and without an ICC profile and with EXIF orientations.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { createDetector, type Detector } from '../src/detect/detector.js';
import type { Face } from '../src/detect/face.js';
import { loadModelInput } from '../src/detect/input.js';
import { imageToModel } from '../src/detect/letterbox.js';
import { seedDir, SEED_PHOTOS } from '../src/fixtures.js';
import { decodeRgb } from '../src/image/pixels.js';
import { centroid, gaussianBlob } from './helpers/blob.js';
import { encodeJpeg, encodePng, paddedSeed, seedMosaic, seedPhoto1920 } from './helpers/photos.js';

const SEED = seedDir();
const ORT = (await onnxruntimeNodeBackend.availability()).available;

function expectSameFaces(exact: Face[], fast: Face[], what: string): void {
  expect(fast.length, `${what}: face count`).toBe(exact.length);
  for (const e of exact) {
    // Pair each exact face with the fast face nearest to it (order can swap on near-equal scores).
    const f = fast.reduce((best, c) => (Math.abs(c.box.xMin - e.box.xMin) + Math.abs(c.box.yMin - e.box.yMin) < Math.abs(best.box.xMin - e.box.xMin) + Math.abs(best.box.yMin - e.box.yMin) ? c : best));
    const size = Math.max(e.box.width, e.box.height);
    for (const k of ['xMin', 'yMin', 'xMax', 'yMax'] as const) {
      expect(Math.abs(f.box[k] - e.box[k]) / size, `${what}: ${k} of the face at (${e.box.xMin.toFixed(0)}, ${e.box.yMin.toFixed(0)})`).toBeLessThan(0.01);
    }
    expect(Math.abs(f.score - e.score), `${what}: score`).toBeLessThan(0.01);
  }
}

describe('fast preprocessing geometry', () => {
  it('a blob in a JPEG lands where the transform says (fused shrink-on-load sizes and the decode-then-resize ones)', async () => {
    // Multiples of 8 fuse (shrink-on-load 2, 4 or 8); the others must take the exact route (a fused
    // 1999x1333 was 0.26 model pixels off, from the columns shrink-on-load drops).
    const sizes = [[1920, 1280, 1], [4000, 3000, 1], [1008, 1008, 6], [3024, 4032, 8], [1999, 1333, 1], [1280, 1921, 6], [801, 599, 3]] as const;
    for (const [w, h, o] of sizes) {
      for (const [fx, fy] of [[0.37, 0.58], [0.9, 0.15]]) {
        const cx = fx * w, cy = fy * h;
        const blob = gaussianBlob(w, h, cx, cy, 0.03 * Math.min(w, h));
        // Stored turned back by encodeJpeg, so the displayed blob is at (cx, cy).
        const jpg = new Uint8Array(await encodeJpeg(blob.data, w, h, { orientation: o, quality: 95 }));
        const fast = await loadModelInput(jpg, 'blob', 192, 192, { preprocess: 'fast' });
        expect([fast.width, fast.height]).toEqual([w, h]);
        const c = centroid(fast.model);
        // centroid() puts pixel centres at integers; the transform maps pixel edges.
        const want = imageToModel(fast.transform, cx + 0.5, cy + 0.5);
        expect(Math.abs(c.x + 0.5 - want.u * 192), `${w}x${h} o${o} (${fx}, ${fy}) x`).toBeLessThan(0.03);
        expect(Math.abs(c.y + 0.5 - want.v * 192), `${w}x${h} o${o} (${fx}, ${fy}) y`).toBeLessThan(0.03);
      }
    }
  });

  it('WebP (shrink-on-load too), AVIF and TIFF land where the transform says', async () => {
    for (const [w, h] of [[1920, 1280], [4000, 3000]] as const) {
      const cx = 0.9 * w, cy = 0.15 * h;
      const blob = gaussianBlob(w, h, cx, cy, 0.03 * Math.min(w, h));
      for (const fmt of ['webp', 'avif', 'tiff'] as const) {
        const bytes = new Uint8Array(await sharp(blob.data, { raw: { width: w, height: h, channels: 3 } })[fmt]({ quality: 95 }).toBuffer());
        const fast = await loadModelInput(bytes, fmt, 192, 192, { preprocess: 'fast' });
        const c = centroid(fast.model);
        const want = imageToModel(fast.transform, cx + 0.5, cy + 0.5);
        expect(Math.abs(c.x + 0.5 - want.u * 192), `${fmt} ${w}x${h} x`).toBeLessThan(0.03);
        expect(Math.abs(c.y + 0.5 - want.v * 192), `${fmt} ${w}x${h} y`).toBeLessThan(0.03);
      }
    }
  });

  it('skipping the ICC pass (no profile, or sRGB) gives bit-identical pixels; a Display P3 profile is still applied', async () => {
    const blob = gaussianBlob(300, 200, 120, 90, 30);
    // Colours away from grey, so a P3 -> sRGB conversion shows.
    for (let i = 0; i < blob.data.length; i += 3) blob.data[i + 1] = 255 - blob.data[i + 1]!;
    const files: [string, Uint8Array, boolean][] = [
      ['JPEG, no profile', new Uint8Array(await encodeJpeg(blob.data, 300, 200)), false],
      ['JPEG, sRGB profile', new Uint8Array(await encodeJpeg(blob.data, 300, 200, { icc: 'srgb' })), false],
      ['PNG, no profile', new Uint8Array(await encodePng(blob.data, 300, 200)), false],
      ['JPEG, Display P3 profile', new Uint8Array(await encodeJpeg(blob.data, 300, 200, { icc: 'p3' })), true],
    ];
    if (SEED) for (const f of SEED_PHOTOS) files.push([`seed ${f} (sRGB IEC61966-2.1 profile)`, new Uint8Array(await readFile(path.join(SEED, f))), false]);
    const noIcc = async (bytes: Uint8Array) => new Uint8Array(await sharp(bytes, { ignoreIcc: true }).removeAlpha().toColourspace('srgb').raw().toBuffer());
    for (const [what, bytes, converted] of files) {
      const exact = await decodeRgb(bytes, what, { fast: false });
      const fast = await decodeRgb(bytes, what, { fast: true });
      expect(Buffer.compare(Buffer.from(exact.data), Buffer.from(fast.data)), what).toBe(0);
      // The profile really changes P3 pixels, so it is applied rather than skipped there.
      expect(Buffer.compare(Buffer.from(exact.data), Buffer.from(await noIcc(bytes))) !== 0, what).toBe(converted);
    }
  });
});

describe('the fast path keeps every hostile-input check', () => {
  const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);
  it('sniffed format, pixel limit from the header, regular files only, typed decode errors', async () => {
    const fast = (input: string | Uint8Array, opts = {}) => loadModelInput(input, 'x', 192, 192, { preprocess: 'fast', ...opts });
    expect(await code(fast(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600"/>')))).toBe('INPUT_FORMAT_UNSUPPORTED');
    const jpg = new Uint8Array(await encodeJpeg(gaussianBlob(400, 320, 100, 100, 20).data, 400, 320));
    expect(await code(fast(jpg, { maxInputPixels: 400 * 320 - 1 }))).toBe('INPUT_TOO_LARGE');
    expect(await code(fast(jpg.subarray(0, 300)))).toBe('IMAGE_DECODE');
    expect(await code(fast(new Uint8Array(0)))).toBe('IMAGE_EMPTY');
    expect(await code(fast('/dev/null'))).toBe('INPUT_NOT_A_FILE');
    expect(await code(fast(path.join(path.sep, 'no', 'such', 'photo.jpg')))).toBe('INPUT_NOT_FOUND');
    expect((await fast(jpg)).transform).toMatchObject({ resizedWidth: 192, resizedHeight: 154 });
  });
});

describe.skipIf(!SEED || !ORT)('fast vs exact preprocessing: the same faces (needs the seed photos and onnxruntime-node)', () => {
  const detectors: Record<string, { exact: Detector; fast: Detector }> = {};
  beforeAll(async () => {
    for (const preset of ['full_range', 'short_range'] as const) {
      detectors[preset] = {
        exact: await createDetector({ preset, backend: 'onnxruntime-node', preprocess: 'exact' }),
        fast: await createDetector({ preset, backend: 'onnxruntime-node' }),
      };
    }
  });
  afterAll(async () => {
    for (const d of Object.values(detectors)) await Promise.all([d.exact.dispose(), d.fast.dispose()]);
  });
  const compare = async (bytes: Uint8Array, what: string, presets = ['full_range', 'short_range']) => {
    let faces = 0;
    for (const preset of presets) {
      const { exact, fast } = detectors[preset]!;
      const e = await exact.detect(bytes);
      expectSameFaces(e, await fast.detect(bytes), `${preset} ${what}`);
      faces += e.length;
    }
    return faces;
  };

  it('seed photos (128x128 PNG: identity for short_range, enlarged for full_range)', async () => {
    for (const file of SEED_PHOTOS) expect(await compare(new Uint8Array(await readFile(path.join(SEED!, file))), file)).toBeGreaterThan(0);
  });

  it('seed photos enlarged and padded to larger PNGs', async () => {
    for (const [file, scale, w, h] of [['1face.png', 3, 800, 600], ['3faces.png', 4, 1000, 700], ['4faces.png', 8, 1100, 1100], ['1face.png', 2, 300, 900]] as const) {
      const { png } = await paddedSeed(SEED!, file, scale, w, h);
      expect(await compare(new Uint8Array(png), `${file} x${scale} in ${w}x${h}`)).toBeGreaterThan(0);
    }
  });

  it('1920x1280 JPEGs: no profile, sRGB and Display P3 profiles, EXIF orientations 3, 6, 8', async () => {
    const photo = await seedPhoto1920(SEED!);
    const variants = [{}, { icc: 'srgb' }, { icc: 'p3' }, { orientation: 3 }, { orientation: 6 }, { orientation: 8, icc: 'p3' }] as const;
    for (const v of variants) {
      const jpg = new Uint8Array(await encodeJpeg(photo.raw, photo.width, photo.height, v));
      expect(await compare(jpg, `1920x1280 JPEG ${JSON.stringify(v)}`, ['full_range'])).toBeGreaterThan(0);
    }
  });

  it('a 3840x2560 mosaic JPEG (its faces are too small for the whole-image view: both paths agree on none, see the tiling tests)', async () => {
    const m = await seedMosaic(SEED!, 1280);
    await compare(new Uint8Array(await encodeJpeg(m.raw, m.width, m.height)), '3840x2560 mosaic', ['full_range']);
  });
});

// The platform-free detector core (src/detect/core.ts) and its pure-TS letterbox: same geometry as the
// Node letterbox, identical bytes when enlarging, the same faces as the Node detector on the seed photos,
// RGBA and mirrored input, typed errors, dispose guarding.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend, ImageBatch, RawOutputs } from '../src/backends/backend.js';
import { getBackendFactory } from '../src/backends/index.js';
import { createDetectorCore, type PixelImage } from '../src/detect/core.js';
import { createDetector } from '../src/detect/detector.js';
import { computeLetterbox, letterboxRgb, modelToImage } from '../src/detect/letterbox.js';
import { letterboxPixels } from '../src/detect/letterbox-pixels.js';
import { ToolkitError } from '../src/errors.js';
import { decodeRgb, type RgbImage } from '../src/image/pixels.js';
import { SEED_PHOTOS, seedDir } from '../src/fixtures.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { mulberry32 } from '../src/util/random.js';
import { centroid, gaussianBlob } from './helpers/blob.js';

const SEED = seedDir();
const preset = getPreset('short_range');

function noise(width: number, height: number, seed: number): RgbImage {
  const next = mulberry32(seed);
  return { data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(next() * 256)), width, height };
}

function withAlpha(img: RgbImage): PixelImage {
  const data = new Uint8ClampedArray(img.width * img.height * 4);
  for (let p = 0; p < img.width * img.height; p++) {
    data.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
    data[p * 4 + 3] = 255;
  }
  return { data, width: img.width, height: img.height, channels: 4 };
}

function mirrored(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) out.set(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3), (y * img.width + img.width - 1 - x) * 3);
  }
  return { data: out, width: img.width, height: img.height };
}

describe('letterboxPixels (no image library)', () => {
  it('enlarging gives exactly the Node letterbox bytes', async () => {
    for (const [w, h] of [[64, 64], [100, 80], [50, 90], [127, 127]] as const) {
      const src = noise(w, h, w * 131 + h);
      const node = await letterboxRgb(src, 128, 128);
      const pure = letterboxPixels(src, 128, 128);
      expect(pure.transform).toEqual(node.transform);
      expect(Buffer.from(pure.image.data).equals(Buffer.from(node.image.data))).toBe(true);
    }
  });

  it('shrinking keeps a blob where the transform maps it (0.02 model px) and stays close to sharp', async () => {
    for (const [w, h] of [[640, 480], [300, 500], [192, 128]] as const) {
      const t = computeLetterbox(w, h, 128, 128);
      const sx = t.resizedWidth / w, sy = t.resizedHeight / h;
      const sigma = Math.max(3, 2.5 / Math.min(sx, sy));
      for (let k = 0; k < 5; k++) {
        const cx = (0.35 + 0.3 * ((k * 0.618) % 1)) * w + 0.13;
        const cy = (0.35 + 0.3 * ((k * 0.414) % 1)) * h - 0.29;
        const src = gaussianBlob(w, h, cx, cy, sigma);
        const want = centroid(src);
        const { image, transform } = letterboxPixels(src, 128, 128);
        expect(transform).toEqual(t);
        const c = centroid(image);
        const back = modelToImage(transform, (c.x + 0.5) / 128, (c.y + 0.5) / 128);
        expect(Math.abs((back.x - 0.5 - want.x) * sx)).toBeLessThan(0.02);
        expect(Math.abs((back.y - 0.5 - want.y) * sy)).toBeLessThan(0.02);
        // Same kernel family as sharp's linear reduce: smooth content differs by about a level at most.
        const sharp = (await letterboxRgb(src, 128, 128)).image.data;
        let worst = 0;
        for (let i = 0; i < sharp.length; i++) worst = Math.max(worst, Math.abs(sharp[i]! - image.data[i]!));
        expect(worst).toBeLessThanOrEqual(3);
      }
    }
  });

  it('leaves the border black', () => {
    const { image, transform } = letterboxPixels({ data: new Uint8Array(640 * 480 * 3).fill(200), width: 640, height: 480 }, 128, 128);
    expect(transform.padTop).toBe(16);
    expect(Math.max(...image.data.subarray(0, 16 * 128 * 3))).toBe(0);
    expect(Math.min(...image.data.subarray(16 * 128 * 3, 112 * 128 * 3))).toBe(200);
  });
});

/** A backend that records batches and returns all-background logits. */
function recordingBackend(): Backend & { batches: ImageBatch[]; disposed: number } {
  const a = preset.decode.numBoxes, c = preset.decode.numCoords;
  const b = {
    name: 'reference' as const,
    version: 'test',
    artifact: 'memory',
    notes: [],
    batches: [] as ImageBatch[],
    disposed: 0,
    async run(batch: ImageBatch): Promise<RawOutputs> {
      b.batches.push({ data: Float32Array.from(batch.data), shape: batch.shape });
      const n = batch.shape[0];
      return { regressors: new Float32Array(n * a * c), classificators: new Float32Array(n * a).fill(-20), batch: n, numAnchors: a, numCoords: c };
    },
    async dispose() {
      b.disposed++;
    },
  };
  return b;
}

describe('createDetectorCore', () => {
  it('normalizes RGB and RGBA alike (x / 127.5 - 1) and mirrors with flipHorizontal', async () => {
    const backend = recordingBackend();
    const core = createDetectorCore({ preset, backend });
    const img = noise(128, 128, 7);
    const rgb = await core.prepare({ ...img, channels: 3 }, 'rgb');
    const rgba = await core.prepare(withAlpha(img), 'rgba');
    const flipped = await core.prepare(withAlpha(img), 'flip', { flipHorizontal: true });
    const manual = await core.prepare({ ...mirrored(img), channels: 3 }, 'manual');
    await core.infer([rgb, rgba, flipped, manual]);
    const [batch] = backend.batches;
    const plane = 128 * 128 * 3;
    expect(batch!.shape).toEqual([4, 128, 128, 3]);
    expect(batch!.data[5]).toBe(Math.fround(img.data[5]! / 127.5 - 1));
    expect(batch!.data.subarray(plane, 2 * plane)).toEqual(batch!.data.subarray(0, plane));
    expect(batch!.data.subarray(2 * plane, 3 * plane)).toEqual(batch!.data.subarray(3 * plane, 4 * plane));
    expect(batch!.data.subarray(2 * plane, 3 * plane)).not.toEqual(batch!.data.subarray(0, plane));
  });

  it('refuses bad pixels with typed errors naming the input', async () => {
    const core = createDetectorCore({ preset, backend: recordingBackend() });
    await expect(core.prepare({ data: new Uint8Array(10), width: 2, height: 2, channels: 3 }, 'short')).rejects.toMatchObject({ code: 'IMAGE_RAW_LENGTH', file: 'short' });
    await expect(core.prepare({ data: new Uint8Array(0), width: 0, height: 2, channels: 3 }, 'empty')).rejects.toMatchObject({ code: 'IMAGE_SIZE' });
    await expect(core.prepare({ data: new Uint8Array(8), width: 2, height: 2, channels: 2 as 3 }, 'two')).rejects.toMatchObject({ code: 'IMAGE_CHANNELS' });
    await expect(core.infer([])).rejects.toMatchObject({ code: 'BATCH_EMPTY' });
    expect(() => createDetectorCore({ preset, backend: recordingBackend(), minScore: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'minScore' }));
  });

  it('dispose() waits for running calls, refuses later ones and disposes the backend once', async () => {
    const backend = recordingBackend();
    const core = createDetectorCore({ preset, backend });
    const running = core.guarded(async () => core.infer([await core.prepare({ ...noise(128, 128, 1), channels: 3 }, 'x')]));
    const d1 = core.dispose();
    const d2 = core.dispose();
    await expect(running).resolves.toEqual([[]]);
    await Promise.all([d1, d2]);
    expect(backend.disposed).toBe(1);
    await expect(core.guarded(async () => 1)).rejects.toBeInstanceOf(ToolkitError);
    await expect(core.guarded(async () => 1)).rejects.toMatchObject({ code: 'DETECTOR_DISPOSED' });
  });

  it.skipIf(!SEED)(`same faces as the Node detector on the seed photos (onnxruntime-node)${SEED ? '' : ' (skipped: no seed photos)'}`, async () => {
    const node = await createDetector({ preset: 'short_range', backend: 'onnxruntime-node' });
    const backend = await (await getBackendFactory('onnxruntime-node')).load(await loadModelSource(preset));
    const core = createDetectorCore({ preset, backend });
    try {
      for (const photo of SEED_PHOTOS) {
        const file = path.join(SEED!, photo);
        const rgb = await decodeRgb(file);
        const [faces] = await core.infer([await core.prepare(withAlpha(rgb), photo)]);
        const want = await node.detect(file);
        expect(faces!.map((f) => f.toArray())).toEqual(want.map((f) => f.toArray()));
      }
    } finally {
      await core.dispose();
      await node.dispose();
    }
  });
});

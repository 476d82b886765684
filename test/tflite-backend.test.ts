// Parity of the float64 reference interpreter with the official TFLite runtime (WebAssembly build of
// @tensorflow/tfjs-tflite) on the original .tflite files: |tflite - ref| <= 1e-4 * (1 + |ref|) for
// every element of both outputs. Inputs: the seed's three photos when ../shared/seed exists
// (128x128 for short_range, resized to 192x192 for the full-range models), and always three seeded
// pseudo-random images and a batch of 4.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { referenceBackend } from '../src/backends/reference.js';
import { tfliteBackend } from '../src/backends/tflite.js';
import { InputImageError } from '../src/errors.js';
import { SEED_PHOTOS, seedDir } from '../src/fixtures.js';
import { decodeRgb, resizeRgb, toModelBatch, type RgbImage } from '../src/image/pixels.js';
import { getPreset, PACKAGED_PRESETS } from '../src/presets/index.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { readTflite } from '../src/tflite/reader.js';
import { scaledDiff } from './helpers/tolerance.js';

const REL_TOL = 1e-4;
const SEED = seedDir();

/** Smooth pattern plus noise from a seeded LCG: deterministic, image-like enough to light up the detector. */
function pseudoRandomImage(seed: number, size: number): RgbImage {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const data = new Uint8Array(size * size * 3);
  const fx = 0.02 + rand() * 0.1;
  const fy = 0.02 + rand() * 0.1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const v = 128 + 90 * Math.sin(x * fx + y * fy + c * 2.1 + seed) + (rand() - 0.5) * 80;
        data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, width: size, height: size };
}

const summary: string[] = [];

function check(model: string, label: string, ref: RawOutputs, got: RawOutputs): void {
  expect(got.batch).toBe(ref.batch);
  expect(got.numAnchors).toBe(ref.numAnchors);
  expect(got.numCoords).toBe(ref.numCoords);
  for (const output of ['regressors', 'classificators'] as const) {
    const c = scaledDiff(ref[output], got[output], REL_TOL);
    summary.push(
      `${model.padEnd(18)} ${label.padEnd(22)} ${output.padEnd(15)} max_err ${c.maxAbs.toExponential(3)}  max_err/(1+|ref|) ${c.maxScaled.toExponential(3)}`,
    );
    expect(c.failures, `${model} ${label} ${output}: ${c.failures} elements beyond tolerance, first at ${c.firstFailure}`).toBe(0);
  }
}

afterAll(() => {
  if (summary.length > 0) console.log(`reference vs tflite (tolerance |diff| <= 1e-4 * (1 + |ref|)):\n${summary.join('\n')}`);
});

describe.each(PACKAGED_PRESETS)('%s: reference runtime vs official TFLite runtime', (name) => {
  const preset = getPreset(name);
  let source: ModelSource;
  let reference: Backend;
  let tflite: Backend;

  beforeAll(async () => {
    const tflitePath = resolvePresetModelFile(preset);
    const tfliteBytes = new Uint8Array(await readFile(tflitePath));
    const graph = readTflite(tfliteBytes, path.basename(tflitePath));
    source = { preset, tflitePath, tfliteBytes, graph, artifactsDir: '' };
    expect(await tfliteBackend.availability()).toEqual({ available: true });
    reference = await referenceBackend.load(source);
    tflite = await tfliteBackend.load(source);
  }, 60_000);

  afterAll(async () => {
    await tflite?.dispose();
    await reference?.dispose();
  });

  const size = preset.inputWidth;

  async function runBoth(label: string, batch: ImageBatch): Promise<{ ref: RawOutputs; got: RawOutputs }> {
    const t0 = performance.now();
    const ref = await reference.run(batch);
    const t1 = performance.now();
    const got = await tflite.run(batch);
    const t2 = performance.now();
    summary.push(
      `${name.padEnd(18)} ${label.padEnd(22)} timing         reference ${(t1 - t0).toFixed(0)} ms, tflite ${(t2 - t1).toFixed(0)} ms (batch ${batch.shape[0]})`,
    );
    expect(ref.regressors).toBeInstanceOf(Float64Array);
    expect(got.regressors).toBeInstanceOf(Float32Array);
    return { ref, got };
  }

  it('reports version, notes and the batch-1 loop', () => {
    expect(tflite.name).toBe('tflite');
    expect(tflite.version).toBe('@tensorflow/tfjs-tflite 0.0.1-alpha.10');
    expect(tflite.notes).toContain('runtime takes batch 1: loops over N');
    expect(reference.version).toMatch(/^\d+\.\d+\.\d+.* \(float64 interpreter\)$/);
    // The Node shim's globals exist only while the runtime loads for the first time.
    expect('self' in globalThis).toBe(false);
    expect('importScripts' in globalThis).toBe(false);
  });

  it.skipIf(!SEED)(
    SEED ? `agrees on the seed photos (${SEED_PHOTOS.join(', ')}) at ${size}x${size}` : 'seed photos: SKIPPED, ../shared/seed is absent (pseudo-random images cover parity)',
    async () => {
      const photos = await Promise.all(SEED_PHOTOS.map((f) => decodeRgb(path.join(SEED!, f))));
      const images = await Promise.all(photos.map((p) => resizeRgb(p, size, size)));
      let bestLogit = -Infinity;
      for (const [i, img] of images.entries()) {
        const { ref, got } = await runBoth(SEED_PHOTOS[i]!, toModelBatch([img]));
        check(name, SEED_PHOTOS[i]!, ref, got);
        if (i === 0) for (const v of ref.classificators) bestLogit = Math.max(bestLogit, v);
      }
      // Not a parity check, a sanity one: 1face.png has a clear frontal face for every model.
      expect(bestLogit).toBeGreaterThan(0);
    },
    120_000,
  );

  it('agrees on three seeded pseudo-random images', async () => {
    for (const seed of [1, 2, 3]) {
      const { ref, got } = await runBoth(`random #${seed}`, toModelBatch([pseudoRandomImage(seed, size)]));
      check(name, `random #${seed}`, ref, got);
    }
  }, 120_000);

  it('agrees on a batch of 4 and matches the per-image results', async () => {
    const images = [10, 11, 12, 13].map((s) => pseudoRandomImage(s, size));
    const { ref, got } = await runBoth('batch of 4', toModelBatch(images));
    expect(ref.batch).toBe(4);
    check(name, 'batch of 4', ref, got);
    // Item 2 of the batch equals running image 2 alone (no cross-talk between batch rows).
    const single = await tflite.run(toModelBatch([images[2]!]));
    const regSize = got.numAnchors * got.numCoords;
    expect(Array.from(got.regressors.subarray(2 * regSize, 3 * regSize))).toEqual(Array.from(single.regressors));
    const singleRef = await reference.run(toModelBatch([images[2]!]));
    expect(Array.from(ref.classificators.subarray(2 * ref.numAnchors, 3 * ref.numAnchors))).toEqual(Array.from(singleRef.classificators));
  }, 120_000);

  it('the comparison can fail: outputs of different images are far apart', async () => {
    const a = await reference.run(toModelBatch([pseudoRandomImage(21, size)]));
    const b = await tflite.run(toModelBatch([pseudoRandomImage(22, size)]));
    expect(scaledDiff(a.regressors, b.regressors, REL_TOL).failures).toBeGreaterThan(0);
  }, 60_000);

  it('rejects a batch of the wrong size with a typed error', async () => {
    const wrong: ImageBatch = { shape: [1, size + 1, size, 3], data: new Float32Array((size + 1) * size * 3) };
    await expect(tflite.run(wrong)).rejects.toBeInstanceOf(InputImageError);
    await expect(reference.run(wrong)).rejects.toBeInstanceOf(InputImageError);
  });
});

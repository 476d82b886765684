// The tfjs graph-model emitter on MediaPipe's three packaged face detectors: emitted, loaded on
// tfjs-wasm and tfjs-cpu (from memory and from disk), run on batches of 1 and 4, and compared with
// the float64 reference runtime: |tfjs - ref| <= 1e-4 * (1 + |ref|) elementwise.
import { mkdtemp, rm, writeFile, mkdir, truncate } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendFactory, ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { tfjsCpuBackend, tfjsNodeBackend, tfjsWasmBackend } from '../src/backends/tfjs.js';
import { emitTfjs, type TfjsArtifacts } from '../src/emit/tfjs/emit.js';
import { ArtifactIntegrityError } from '../src/errors.js';
import { REPO_ROOT, SEED_PHOTOS, seedDir } from '../src/fixtures.js';
import { decodeRgb, resizeRgb, toModelBatch, type RgbImage } from '../src/image/pixels.js';
import type { Graph } from '../src/ir/graph.js';
import { PACKAGED_PRESETS, PRESETS, type Preset } from '../src/presets/index.js';
import { runReference } from '../src/reference/runtime.js';
import { loadTfliteFile } from '../src/tflite/reader.js';
import { mulberry32 } from '../src/util/random.js';
import { maxScaledDiff } from './helpers/tolerance.js';

const TOL = 1e-4;
const BACKENDS: readonly BackendFactory[] = [tfjsWasmBackend, tfjsCpuBackend];

function randomImage(size: number, seed: number): RgbImage {
  const rand = mulberry32(seed);
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { data, width: size, height: size };
}

/** Seed photos resized to the model input (the fourth image is seeded noise); all noise without the seed. */
async function testImages(size: number): Promise<RgbImage[]> {
  const dir = seedDir();
  const images: RgbImage[] = [];
  if (dir) {
    for (const photo of SEED_PHOTOS) images.push(await resizeRgb(await decodeRgb(path.join(dir, photo)), size, size));
  }
  while (images.length < 4) images.push(randomImage(size, 1000 + images.length));
  return images;
}

function modelSource(preset: Preset, graph: Graph, art: TfjsArtifacts | null, artifactsDir = '/nonexistent'): ModelSource {
  return {
    preset,
    tflitePath: graph.source.fileName,
    tfliteBytes: new Uint8Array(0),
    graph,
    artifactsDir,
    ...(art ? { overrides: { tfjs: { modelJson: art.modelJson, weights: art.weights } } } : {}),
  };
}

function emitBoth(graph: Graph, preset: Preset): Record<'float16' | 'float32', TfjsArtifacts> {
  return {
    float16: emitTfjs(graph, preset, { weightDtype: 'float16', toolkitVersion: '0.0.0-test' }),
    float32: emitTfjs(graph, preset, { weightDtype: 'float32', toolkitVersion: '0.0.0-test' }),
  };
}

for (const presetName of PACKAGED_PRESETS) {
  const preset = PRESETS[presetName];
  describe(`tfjs emitter: ${presetName}`, () => {
    let graph: Graph;
    let arts: Record<'float16' | 'float32', TfjsArtifacts>;
    const batches: { n: number; batch: ImageBatch; ref: RawOutputs }[] = [];

    beforeAll(async () => {
      graph = await loadTfliteFile(path.join(REPO_ROOT, 'node_modules', '@mediapipe', 'face_detection', preset.source.fileName));
      arts = emitBoth(graph, preset);
      const images = await testImages(preset.inputWidth);
      for (const n of [1, 4]) {
        const batch = toModelBatch(images.slice(0, n));
        batches.push({ n, batch, ref: runReference(graph, batch) });
      }
      for (const [dtype, a] of Object.entries(arts)) {
        const json = `${JSON.stringify(a.modelJson, null, 2)}\n`;
        console.log(`${presetName} ${dtype}: model.json ${json.length} bytes, ${a.shards.map((s) => `${s.fileName} ${s.bytes.byteLength} bytes`).join(', ')}`);
      }
    }, 120_000);

    it('emits byte-identical artifacts twice', () => {
      const again = emitBoth(graph, preset);
      for (const dtype of ['float16', 'float32'] as const) {
        expect(JSON.stringify(again[dtype].modelJson)).toBe(JSON.stringify(arts[dtype].modelJson));
        expect(again[dtype].shards.map((s) => s.fileName)).toEqual(arts[dtype].shards.map((s) => s.fileName));
        expect(Buffer.compare(Buffer.from(again[dtype].weights), Buffer.from(arts[dtype].weights))).toBe(0);
      }
    });

    it('writes a graph-model with the named signature, dynamic batch and source metadata', () => {
      const m = arts.float16.modelJson;
      expect(m.format).toBe('graph-model');
      expect(m.convertedBy).toMatch(/^blazeface-toolkit 0\.0\.0-test$/);
      const dims = (info: { tensorShape: { dim?: readonly { size: string }[] } }) => info.tensorShape.dim!.map((d) => Number(d.size));
      expect(dims(m.signature.inputs.input!)).toEqual([-1, preset.inputHeight, preset.inputWidth, 3]);
      expect(dims(m.signature.outputs.regressors!)).toEqual([-1, preset.decode.numBoxes, 16]);
      expect(dims(m.signature.outputs.classificators!)).toEqual([-1, preset.decode.numBoxes, 1]);
      expect(m.userDefinedMetadata.source).toEqual({ fileName: graph.source.fileName, sha256: graph.source.sha256, byteLength: graph.source.byteLength });
      expect(m.userDefinedMetadata.preset).toBe(presetName);
      // The shards are exactly what the manifest describes, in order.
      expect(m.weightsManifest[0]!.paths).toEqual(arts.float16.shards.map((s) => s.fileName));
    });

    it('stores every float weight as float16 and tfjs decodes it to exactly the float32 weights', async () => {
      await tf.setBackend('cpu'); // decodeWeights makes tensors; the tfjs backends re-select theirs per run
      const f16 = arts.float16.modelJson.weightsManifest[0]!.weights;
      const f32 = arts.float32.modelJson.weightsManifest[0]!.weights;
      expect(arts.float16.modelJson.userDefinedMetadata.float32Fallbacks).toEqual([]);
      expect(f16.filter((w) => w.dtype === 'float32').every((w) => w.quantization?.dtype === 'float16')).toBe(true);
      expect(arts.float16.weights.byteLength).toBeLessThan(arts.float32.weights.byteLength * 0.55);
      const decode = (a: TfjsArtifacts, specs: typeof f16) =>
        tf.io.decodeWeights(a.weights.slice().buffer, specs as unknown as tf.io.WeightsManifestEntry[]);
      const half = decode(arts.float16, f16);
      const full = decode(arts.float32, f32);
      expect(Object.keys(half)).toEqual(Object.keys(full));
      let values = 0;
      for (const name of Object.keys(full)) {
        const a = half[name]!.dataSync();
        const b = full[name]!.dataSync();
        expect(half[name]!.dtype).toBe(full[name]!.dtype);
        const bitsA = new Uint32Array(a.buffer, a.byteOffset, a.length);
        const bitsB = new Uint32Array(b.buffer, b.byteOffset, b.length);
        expect(Buffer.compare(Buffer.from(bitsA.buffer, bitsA.byteOffset, bitsA.byteLength), Buffer.from(bitsB.buffer, bitsB.byteOffset, bitsB.byteLength)), name).toBe(0);
        values += a.length;
      }
      for (const t of [...Object.values(half), ...Object.values(full)]) t.dispose();
      console.log(`${presetName}: ${Object.keys(full).length} weights, ${values} values decode identically from float16 and float32 storage`);
    });

    // float32 storage decodes to the same weights (above), so the slow JS kernels run float16 only.
    for (const factory of BACKENDS) {
      for (const dtype of factory === tfjsCpuBackend ? (['float16'] as const) : (['float16', 'float32'] as const)) {
        it(`${factory.name} (${dtype} storage) matches the reference on batches of 1 and 4`, async () => {
          const backend = await factory.load(modelSource(preset, graph, arts[dtype]));
          try {
            expect(backend.version).toMatch(/4\.22\.0/);
            for (const { n, batch, ref } of batches) {
              const got = await backend.run(batch);
              expect([got.batch, got.numAnchors, got.numCoords]).toEqual([n, preset.decode.numBoxes, 16]);
              expect(got.regressors).toBeInstanceOf(Float32Array);
              const errR = maxScaledDiff(ref.regressors, got.regressors);
              const errC = maxScaledDiff(ref.classificators, got.classificators);
              console.log(`${presetName} ${factory.name} ${dtype} N=${n}: max_err regressors ${errR.toExponential(2)}, classificators ${errC.toExponential(2)}`);
              expect(errR).toBeLessThanOrEqual(TOL);
              expect(errC).toBeLessThanOrEqual(TOL);
            }
          } finally {
            await backend.dispose();
          }
        }, 120_000);
      }
    }
  });
}

describe('tfjs artifacts on disk', () => {
  const preset = PRESETS.short_range;
  let graph: Graph;
  let art: TfjsArtifacts;
  let root: string;
  let batch: ImageBatch;

  beforeAll(async () => {
    graph = await loadTfliteFile(path.join(REPO_ROOT, 'node_modules', '@mediapipe', 'face_detection', preset.source.fileName));
    // Small shards force the multi-shard path of the file reader.
    art = emitTfjs(graph, preset, { weightDtype: 'float16', toolkitVersion: '0.0.0-test', shardBytes: 64 * 1024 });
    root = await mkdtemp(path.join(os.tmpdir(), 'tfjs-emitter-'));
    await mkdir(path.join(root, 'tfjs'));
    await writeFile(path.join(root, 'tfjs', 'model.json'), JSON.stringify(art.modelJson));
    for (const s of art.shards) await writeFile(path.join(root, 'tfjs', s.fileName), s.bytes);
    batch = toModelBatch((await testImages(preset.inputWidth)).slice(0, 2));
  }, 60_000);
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('loads model.json and several shards from <artifactsDir>/tfjs and runs on both tfjs backends in turn', async () => {
    expect(art.shards.length).toBe(Math.ceil(art.weights.byteLength / (64 * 1024)));
    const ref = runReference(graph, batch);
    const wasm = await tfjsWasmBackend.load(modelSource(preset, graph, null, root));
    const cpu = await tfjsCpuBackend.load(modelSource(preset, graph, null, root));
    try {
      expect(wasm.artifact).toBe(path.join(root, 'tfjs', 'model.json'));
      // Interleave the two backends: each run must select its own global tfjs backend.
      for (const backend of [wasm, cpu, wasm, cpu]) {
        const got = await backend.run(batch);
        expect(maxScaledDiff(ref.regressors, got.regressors)).toBeLessThanOrEqual(TOL);
        expect(maxScaledDiff(ref.classificators, got.classificators)).toBeLessThanOrEqual(TOL);
      }
      // Concurrent runs on different backends are serialized, not interleaved mid-run.
      const [a, b] = await Promise.all([wasm.run(batch), cpu.run(batch)]);
      expect(maxScaledDiff(ref.regressors, a.regressors)).toBeLessThanOrEqual(TOL);
      expect(maxScaledDiff(ref.regressors, b.regressors)).toBeLessThanOrEqual(TOL);
    } finally {
      await wasm.dispose();
      await cpu.dispose();
    }
  }, 120_000);

  it('names the damaged file: truncated shard, missing shard', async () => {
    const last = path.join(root, 'tfjs', art.shards.at(-1)!.fileName);
    await truncate(last, 10);
    await expect(tfjsCpuBackend.load(modelSource(preset, graph, null, root))).rejects.toThrow(/weight shards hold \d+ bytes, the manifest describes \d+/);
    await rm(last);
    const err = await tfjsCpuBackend.load(modelSource(preset, graph, null, root)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactIntegrityError);
    expect((err as ArtifactIntegrityError).file).toBe(last);
  });

  it('rejects in-memory weights that do not match the manifest', async () => {
    const short = { modelJson: art.modelJson, weights: art.weights.subarray(0, art.weights.byteLength - 2) };
    const src = { ...modelSource(preset, graph, null), overrides: { tfjs: short } };
    await expect(tfjsWasmBackend.load(src)).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  it('rejects a batch of the wrong size with the expected shape in the message', async () => {
    const backend = await tfjsCpuBackend.load(modelSource(preset, graph, art));
    try {
      await expect(backend.run({ data: new Float32Array(192 * 192 * 3), shape: [1, 192, 192, 3] })).rejects.toThrow(/\[N,128,128,3\]/);
    } finally {
      await backend.dispose();
    }
  });
});

describe('tfjs-node (optional)', () => {
  it('is available exactly when @tensorflow/tfjs-node can be resolved, else says why', async () => {
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    } catch {
      installed = false;
    }
    const avail = await tfjsNodeBackend.availability();
    if (installed) {
      expect(avail.available || /failed to load|different/.test((avail as { reason: string }).reason)).toBe(true);
    } else {
      expect(avail).toEqual({ available: false, reason: '@tensorflow/tfjs-node is not installed (optional; its install downloads libtensorflow)' });
      const src = { preset: PRESETS.short_range, tflitePath: 'x.tflite', tfliteBytes: new Uint8Array(0), graph: {} as Graph, artifactsDir: '/nonexistent' };
      await expect(tfjsNodeBackend.load(src)).rejects.toThrow(/tfjs-node is not installed/);
    }
  });
});

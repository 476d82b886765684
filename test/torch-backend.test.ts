// The torch backend: availability, refusal for presets without a PyTorch layout, and (with Python + torch)
// parity of the PyTorch module on the emitted .pth against the float64 reference runtime on the seed photos.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { findTorchPython, PTH_FILE, pythonCandidates, TORCH_HELPER, torchBackend } from '../src/backends/torch.js';
import { emitTorch } from '../src/emit/torch/emit.js';
import { pickle, py } from '../src/emit/torch/pickle.js';
import { writeStoredZip } from '../src/emit/torch/zip.js';
import { ArtifactIntegrityError, BackendUnavailableError, InputImageError, ToolkitError } from '../src/errors.js';
import { SEED_PHOTOS, seedDir } from '../src/fixtures.js';
import type { Graph } from '../src/ir/graph.js';
import { decodeRgb, toModelBatch } from '../src/image/pixels.js';
import { PRESETS } from '../src/presets/index.js';
import type { Preset } from '../src/presets/types.js';
import { runReference } from '../src/reference/runtime.js';
import { loadTfliteFile } from '../src/tflite/reader.js';
import { scaledDiff } from './helpers/tolerance.js';
import { randomFloats, runPython } from './torch-helpers.js';

const SHORT_RANGE = path.resolve('node_modules/@mediapipe/face_detection/face_detection_short_range.tflite');
const SEED = seedDir();
const PY = await findTorchPython();
const HAS_TORCH = 'executable' in PY;
const PY_SKIP = HAS_TORCH ? '' : ` (skipped: ${'reason' in PY ? PY.reason : ''})`;

async function source(preset: Preset, graph: Graph, artifactsDir: string, pth?: Uint8Array): Promise<ModelSource> {
  return {
    preset,
    tflitePath: SHORT_RANGE,
    tfliteBytes: new Uint8Array(await readFile(SHORT_RANGE)),
    graph,
    artifactsDir,
    overrides: pth ? { pth } : undefined,
  };
}

/** max |a-b| / (1+|b|) over both outputs: the parity criterion is this <= 1e-4. */
function relErr(a: RawOutputs, ref: RawOutputs): { rel: number; abs: number } {
  const r = scaledDiff(ref.regressors, a.regressors);
  const c = scaledDiff(ref.classificators, a.classificators);
  return { rel: Math.max(r.maxScaled, c.maxScaled), abs: Math.max(r.maxAbs, c.maxAbs) };
}

describe('torch backend without Python', () => {
  it('looks for an interpreter in $BLAZEFACE_PYTHON, python3, /usr/bin/python3 order', () => {
    expect(pythonCandidates({ BLAZEFACE_PYTHON: '/opt/py/bin/python' })).toEqual(['/opt/py/bin/python', 'python3', '/usr/bin/python3']);
    expect(pythonCandidates({})).toEqual(['python3', '/usr/bin/python3']);
    expect(pythonCandidates({ BLAZEFACE_PYTHON: '/usr/bin/python3' })).toEqual(['/usr/bin/python3', 'python3']);
  });

  it('reports availability with a reason when unavailable', async () => {
    const a = await torchBackend.availability();
    if (a.available) expect(HAS_TORCH).toBe(true);
    else expect(a.reason).toMatch(/no Python with PyTorch/);
  });

  it('refuses presets without a PyTorch architecture', async () => {
    const graph = await loadTfliteFile(SHORT_RANGE);
    const err = await torchBackend.load(await source(PRESETS.full_range, graph, '/nonexistent')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/no PyTorch architecture for full_range/);
  });
});

describe.skipIf(!HAS_TORCH)(`torch backend with Python + torch${PY_SKIP}`, () => {
  let graph: Graph;
  let dir: string;
  beforeAll(async () => {
    graph = await loadTfliteFile(SHORT_RANGE);
    dir = await mkdtemp(path.join(tmpdir(), 'torch-backend-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a corrupt .pth at load with the artifact named', async () => {
    const bytes = emitTorch(graph, PRESETS.short_range).slice(0, 5000);
    const err = await torchBackend.load(await source(PRESETS.short_range, graph, dir, bytes)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolkitError);
    expect((err as ToolkitError).code).toBe('TORCH_LOAD_FAILED');
    expect((err as Error).message).toMatch(/in-memory blazeface\.pth \(5000 bytes\)/);
  });

  it('loads a .pth with the weights-only unpickler: a pickle naming os.system is refused, not run', async () => {
    const marker = path.join(dir, 'pickle-ran');
    const evil = pickle(py.call(py.global('os', 'system'), [py.str(`touch ${marker}`)]));
    const pth = writeStoredZip([
      { name: 'blazeface/data.pkl', data: evil },
      { name: 'blazeface/version', data: new TextEncoder().encode('3\n') },
    ]);
    const err = await torchBackend.load(await source(PRESETS.short_range, graph, dir, pth)).catch((e: unknown) => e);
    expect((err as ToolkitError).code).toBe('PTH_UNSAFE');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a batch whose data does not fit its shape instead of hanging or desyncing the helper pipe', async () => {
    const backend = await torchBackend.load(await source(PRESETS.short_range, graph, dir, emitTorch(graph, PRESETS.short_range)));
    const timeout = (ms: number) => new Promise((resolve) => setTimeout(() => resolve('timed out'), ms));
    try {
      const plane = 128 * 128 * 3;
      for (const batch of [
        { data: new Float32Array(plane), shape: [2, 128, 128, 3] }, // too short: the helper would wait for more bytes
        { data: new Float32Array(2 * plane), shape: [1, 128, 128, 3] }, // too long: the rest would be read as the next header
        { data: new Float32Array(plane), shape: [1, 64, 256, 3] },
      ] as ImageBatch[]) {
        const err = await Promise.race([backend.run(batch).then(() => 'resolved', (e: unknown) => e), timeout(10_000)]);
        expect(err, `shape [${batch.shape.join(',')}]`).toBeInstanceOf(InputImageError);
        expect((err as InputImageError).code).toBe('BATCH_SHAPE');
      }
      // The pipe is still in sync: a good batch gives the reference's answer.
      const good: ImageBatch = { data: randomFloats(plane, 3), shape: [1, 128, 128, 3] };
      expect(relErr(await backend.run(good), runReference(graph, good)).rel).toBeLessThanOrEqual(1e-4);
    } finally {
      await backend.dispose();
    }
  });

  it('the helper CLI `run` (one process, stdin/stdout) matches the reference on a random batch of 2', async () => {
    const pth = path.join(dir, 'cli.pth');
    await writeFile(pth, emitTorch(graph, PRESETS.short_range));
    const data = randomFloats(2 * 128 * 128 * 3, 7).map((v) => v * 2);
    const batch: ImageBatch = { data, shape: [2, 128, 128, 3] };
    const r = await runPython((PY as { executable: string }).executable, [TORCH_HELPER, 'run', pth, 'front', '2', '128', '128', '3'], new Uint8Array(data.buffer));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const f = new Float32Array(r.stdout.buffer.slice(r.stdout.byteOffset, r.stdout.byteOffset + r.stdout.byteLength));
    expect(f.length).toBe(2 * 896 * 17);
    const out: RawOutputs = { regressors: f.subarray(0, 2 * 896 * 16), classificators: f.subarray(2 * 896 * 16), batch: 2, numAnchors: 896, numCoords: 16 };
    expect(relErr(out, runReference(graph, batch)).rel).toBeLessThanOrEqual(1e-4);
  });

  describe.skipIf(!SEED)(`on the seed photos${SEED ? '' : ' (skipped: /work/shared/seed not found)'}`, () => {
    let photos: ImageBatch[];
    beforeAll(async () => {
      const images = await Promise.all(SEED_PHOTOS.map((f) => decodeRgb(path.join(SEED!, f))));
      photos = [toModelBatch([images[0]!]), toModelBatch(images)];
    });

    it('short_range: the PyTorch module on the emitted .pth matches the float64 reference (batch 1 and 3)', async () => {
      const artifacts = path.join(dir, 'short_range');
      await mkdir(artifacts, { recursive: true });
      await writeFile(path.join(artifacts, PTH_FILE), emitTorch(graph, PRESETS.short_range));
      const backend = await torchBackend.load(await source(PRESETS.short_range, graph, artifacts));
      try {
        expect(backend.artifact).toBe(path.join(artifacts, PTH_FILE));
        expect(backend.version).toMatch(/^\d+\.\d+/);
        for (const batch of photos) {
          const out = await backend.run(batch);
          const ref = runReference(graph, batch);
          expect(out).toMatchObject({ batch: batch.shape[0], numAnchors: 896, numCoords: 16 });
          expect(out.regressors).toBeInstanceOf(Float32Array);
          const { rel, abs } = relErr(out, ref);
          console.log(`torch vs reference, short_range, N=${batch.shape[0]}: max |diff| ${abs.toExponential(2)}, max |diff|/(1+|ref|) ${rel.toExponential(2)}`);
          expect(rel).toBeLessThanOrEqual(1e-4);
        }
      } finally {
        await backend.dispose();
      }
    });

    it('refuses to load when the converted .pth is missing, naming the file, like every other backend', async () => {
      const missing = path.join(dir, 'missing');
      const err = await torchBackend.load(await source(PRESETS.short_range, graph, missing)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArtifactIntegrityError);
      expect((err as ArtifactIntegrityError).code).toBe('ARTIFACT_MISSING');
      expect((err as Error).message).toContain(path.join(missing, 'blazeface.pth'));
    });

    it("the module with the seed's own front weights scores the photos as the seed did (faces in 1 and 3, none in 4)", async () => {
      const seedPth = new Uint8Array(await readFile(path.join(SEED!, 'blazeface.pth')));
      const backend = await torchBackend.load(await source(PRESETS.front, graph, dir, seedPth));
      try {
        const out = await backend.run(photos[1]!);
        const best = [0, 1, 2].map((n) => {
          const logits = out.classificators.subarray(n * 896, (n + 1) * 896);
          return 1 / (1 + Math.exp(-Math.max(...logits)));
        });
        expect(best[0]).toBeGreaterThanOrEqual(0.75);
        expect(best[1]).toBeGreaterThanOrEqual(0.75);
        expect(best[2]).toBeLessThan(0.75);
      } finally {
        await backend.dispose();
      }
    });
  });
});

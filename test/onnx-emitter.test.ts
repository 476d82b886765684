// The ONNX emitter on the three packaged MediaPipe models: valid for the official checker, byte-for-byte
// reproducible, and within 1e-4 * (1 + |ref|) of the float64 reference runtime on onnxruntime-node and
// onnxruntime-web, at batch 1 and batch 4 (seed photos when ../shared/seed exists, seeded noise otherwise).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendFactory, ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { onnxruntimeWebBackend } from '../src/backends/onnxruntime-web.js';
import { buildOnnxModel, emitOnnx } from '../src/emit/onnx/emit.js';
import { decodeModel } from '../src/emit/onnx/proto.js';
import { SEED_PHOTOS, seedDir } from '../src/fixtures.js';
import { decodeRgb, resizeRgb, toModelBatch, type RgbImage } from '../src/image/pixels.js';
import type { Graph } from '../src/ir/graph.js';
import { PACKAGED_PRESETS, PRESETS } from '../src/presets/index.js';
import { runReference } from '../src/reference/runtime.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { readTflite } from '../src/tflite/reader.js';
import { checkOnnx, parity, pythonOnnxAvailable, seededRandom } from './onnx-helpers.js';

const BACKENDS: readonly BackendFactory[] = [onnxruntimeNodeBackend, onnxruntimeWebBackend];
const TOLERANCE = 1e-4;
const META = { toolkitVersion: '0.0.0-test' };
const hasChecker = pythonOnnxAvailable();
if (!hasChecker) console.warn('onnx.checker test skipped: needs python3-onnx (/usr/bin/python3 -c "import onnx" failed)');
const summary: string[] = [];

function noiseImage(width: number, height: number, seed: number): RgbImage {
  const r = seededRandom(seed);
  return { data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(r() * 256)), width, height };
}

/** Four images at the model's size: the seed photos (resized) plus seeded noise, or noise only without the seed. */
async function inputImages(width: number, height: number): Promise<{ images: RgbImage[]; label: string }> {
  const dir = seedDir();
  if (!dir) return { images: [1, 2, 3, 4].map((s) => noiseImage(width, height, s)), label: 'seeded noise (no seed folder)' };
  const photos = await Promise.all(SEED_PHOTOS.map(async (f) => resizeRgb(await decodeRgb(path.join(dir, f)), width, height)));
  return { images: [...photos, noiseImage(width, height, 4)], label: `${SEED_PHOTOS.join(', ')} + noise` };
}

function sliceBatch(batch: ImageBatch, n: number): ImageBatch {
  const [, h, w, c] = batch.shape;
  return { data: batch.data.subarray(0, n * h * w * c), shape: [n, h, w, c] };
}

function sliceOutputs(out: RawOutputs, n: number): RawOutputs {
  const perImage = out.numAnchors * out.numCoords;
  return {
    ...out,
    batch: n,
    regressors: out.regressors.subarray(0, n * perImage),
    classificators: out.classificators.subarray(0, n * out.numAnchors),
  };
}

const tmpRoot = mkdtempSync(path.join(tmpdir(), 'onnx-emitter-'));
afterAll(() => {
  rmSync(tmpRoot, { recursive: true, force: true });
  console.log(`\nONNX emitter summary\n${summary.join('\n')}`);
});

describe.each(PACKAGED_PRESETS)('ONNX emitter: %s', (name) => {
  const preset = PRESETS[name];
  let graph: Graph;
  let source: ModelSource;
  let bytes: Uint8Array;
  let batch4: ImageBatch;
  let ref4: RawOutputs;

  beforeAll(async () => {
    const tflitePath = resolvePresetModelFile(preset);
    const tfliteBytes = new Uint8Array(await readFile(tflitePath));
    graph = readTflite(tfliteBytes, path.basename(tflitePath));
    bytes = emitOnnx(graph, preset, META);
    const artifactsDir = path.join(tmpRoot, name);
    source = { preset, tflitePath, tfliteBytes, graph, artifactsDir, overrides: { onnx: bytes } };
    const { images, label } = await inputImages(preset.inputWidth, preset.inputHeight);
    batch4 = toModelBatch(images);
    // The reference computes each image independently, so batch 1 is compared with image 0 of this run.
    ref4 = runReference(graph, batch4);
    summary.push(`${name}: model.onnx ${bytes.byteLength} bytes; inputs: ${label}`);
  });

  it('is deterministic: emitting twice gives identical bytes', () => {
    const again = emitOnnx(graph, preset, META);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('has an NCHW body: NHWC input read by one Transpose or one rows Reshape, TFLite-shaped outputs, no shape-computing ops', () => {
    const proto = decodeModel(bytes);
    const nodes = proto.graph.node;
    const hist: Record<string, number> = {};
    for (const n of nodes) hist[n.op_type] = (hist[n.op_type] ?? 0) + 1;
    summary.push(`${name}: ${nodes.length} nodes, ${proto.graph.initializer.length} initializers; ${JSON.stringify(hist)}`);
    console.log(`${name}: ${nodes.length} ONNX nodes`, hist);

    expect(proto.ir_version).toBe(8);
    expect(proto.opset_import).toEqual([{ domain: '', version: 17 }]);
    for (const banned of ['Identity', 'Shape', 'Gather', 'Cast']) expect(hist[banned]).toBeUndefined();
    const dims = (v: (typeof proto.graph.input)[number]) => v.type.tensor_type.shape.dim.map((d) => ('dim_param' in d ? d.dim_param : d.dim_value));
    expect(proto.graph.input.map((v) => [v.name, dims(v)])).toEqual([['input', ['N', preset.inputHeight, preset.inputWidth, 3]]]);
    expect(proto.graph.output.map((v) => [v.name, dims(v)])).toEqual([
      ['regressors', ['N', preset.decode.numBoxes, 16]],
      ['classificators', ['N', preset.decode.numBoxes, 1]],
    ]);
    // The input is read once: a Transpose to NCHW, or (inputRows) a Reshape to [N,1,H,W*3] rows that only
    // a one-input-channel Conv reads. Then one NCHW->NHWC Transpose before each RESHAPE of a 4-D map.
    const fromInput = nodes.filter((n) => n.input.includes('input'));
    expect(fromInput).toHaveLength(1);
    const inputRead = fromInput[0]!;
    expect(['Transpose', 'Reshape']).toContain(inputRead.op_type);
    if (inputRead.op_type === 'Reshape') {
      const shape = proto.graph.initializer.find((t) => t.name === inputRead.input[1])!;
      expect([...new BigInt64Array(Uint8Array.from(shape.raw_data).buffer)].map(Number)).toEqual([0, 1, preset.inputHeight, preset.inputWidth * 3]);
      const readers = nodes.filter((n) => n.input.includes(inputRead.output[0]!));
      expect(readers.map((n) => n.op_type)).toEqual(['Conv']);
      expect(proto.graph.initializer.find((t) => t.name === readers[0]!.input[1])!.dims[1]).toBe(1);
    }
    const transposes = nodes.filter((n) => n.op_type === 'Transpose');
    const reshapesOf4d = graph.ops.filter((op) => op.type === 'RESHAPE' && graph.tensors[op.inputs[0]!]!.shape.length === 4).length;
    expect(transposes).toHaveLength((inputRead.op_type === 'Transpose' ? 1 : 0) + reshapesOf4d);

    const metadata = Object.fromEntries(proto.metadata_props.map((p) => [p.key, p.value]));
    expect(metadata.source_file).toBe(graph.source.fileName);
    expect(metadata.source_sha256).toBe(graph.source.sha256);
    expect(metadata.preset).toBe(name);
    expect(metadata.toolkit_version).toBe(META.toolkitVersion);
    expect(JSON.parse(metadata.anchor_options!)).toEqual(preset.anchors);
    expect(JSON.parse(metadata.decode_options!)).toEqual(preset.decode);
    // The object we encoded round-trips through the bytes.
    expect(proto.graph.node.length).toBe(buildOnnxModel(graph, preset, META).graph.node.length);
  });

  it.skipIf(!hasChecker)('passes onnx.checker (full_check) and strict shape inference [needs python3-onnx]', () => {
    const result = checkOnnx(bytes);
    expect(result, result.error).toMatchObject({ ok: true, ir_version: 8, opsets: { 'ai.onnx': 17 } });
    expect(result.outputs).toEqual({ regressors: ['N', preset.decode.numBoxes, 16], classificators: ['N', preset.decode.numBoxes, 1] });
  });

  for (const factory of BACKENDS) {
    it(`matches the float64 reference on ${factory.name} at batch 1 and 4`, async () => {
      expect(await factory.availability()).toEqual({ available: true });
      const backend = await factory.load(source);
      try {
        expect(backend.version).toMatch(new RegExp(`^${factory.name} \\d+\\.\\d+\\.\\d+`));
        for (const n of [1, 4]) {
          const got = await backend.run(sliceBatch(batch4, n));
          const ref = sliceOutputs(ref4, n);
          expect([got.batch, got.numAnchors, got.numCoords]).toEqual([n, preset.decode.numBoxes, 16]);
          expect(got.regressors).toBeInstanceOf(Float32Array);
          for (const output of ['regressors', 'classificators'] as const) {
            const p = parity(got[output], ref[output]);
            summary.push(
              `${name} ${factory.name} batch ${n} ${output}: max_abs ${p.maxAbs.toExponential(2)}, max |d|/(1+|ref|) ${p.maxScaled.toExponential(2)}`,
            );
            expect(p.maxScaled, `${output} worst at ${p.worstIndex}`).toBeLessThanOrEqual(TOLERANCE);
          }
        }
      } finally {
        await backend.dispose();
      }
    });
  }
});

describe('ONNX backends: loading', () => {
  it('read <artifactsDir>/model.onnx when there is no override, and report a missing file with its path', async () => {
    const preset = PRESETS.short_range;
    const tflitePath = resolvePresetModelFile(preset);
    const tfliteBytes = new Uint8Array(await readFile(tflitePath));
    const graph = readTflite(tfliteBytes, path.basename(tflitePath));
    const artifactsDir = path.join(tmpRoot, 'from-disk');
    const source: ModelSource = { preset, tflitePath, tfliteBytes, graph, artifactsDir };
    await expect(onnxruntimeNodeBackend.load(source)).rejects.toThrow(path.join(artifactsDir, 'model.onnx'));

    const { mkdirSync } = await import('node:fs');
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(path.join(artifactsDir, 'model.onnx'), emitOnnx(graph, preset, META));
    const backend = await onnxruntimeNodeBackend.load(source);
    try {
      expect(backend.artifact).toBe(path.join(artifactsDir, 'model.onnx'));
      const [h, w] = [preset.inputHeight, preset.inputWidth];
      await expect(backend.run({ data: new Float32Array(h * w * 3), shape: [1, h + 1, w, 3] })).rejects.toThrow(/does not fit/);
      const out = await backend.run({ data: new Float32Array(2 * h * w * 3), shape: [2, h, w, 3] });
      expect([out.batch, out.numAnchors, out.numCoords]).toEqual([2, 896, 16]);
    } finally {
      await backend.dispose();
    }
  });

  for (const factory of BACKENDS) {
    it(`${factory.name}: a model the runtime cannot parse is named; dispose() is idempotent and run() after it names the file`, async () => {
      const preset = PRESETS.short_range;
      const tflitePath = resolvePresetModelFile(preset);
      const tfliteBytes = new Uint8Array(await readFile(tflitePath));
      const graph = readTflite(tfliteBytes, path.basename(tflitePath));
      const artifactsDir = path.join(tmpRoot, `lifecycle-${factory.name}`);
      const onnx = emitOnnx(graph, preset, META);
      const truncated: ModelSource = { preset, tflitePath, tfliteBytes, graph, artifactsDir, overrides: { onnx: onnx.slice(0, 1000) } };
      await expect(factory.load(truncated)).rejects.toThrow(/^in-memory model\.onnx \(1000 bytes\): .* could not load the model/);

      const backend = await factory.load({ ...truncated, overrides: { onnx } });
      await backend.dispose();
      await expect(backend.dispose()).resolves.toBeUndefined();
      const [h, w] = [preset.inputHeight, preset.inputWidth];
      await expect(backend.run({ data: new Float32Array(h * w * 3), shape: [1, h, w, 3] })).rejects.toThrow(/in-memory model\.onnx .*used after dispose\(\)/);
    });
  }
});

// Two things in one file:
// 1. src/tflite/writer.ts: readTflite(writeTflite(g)) is g again (tensors, shapes, bit-exact data, ops,
//    attributes) for MediaPipe's packaged models and a small graph using every other IR op; writing is
//    deterministic; the official TFLite runtime runs the written files and agrees with the float64
//    reference on the *original* graph.
// 2. The seed's models, rebuilt as float32 .tflite files from blazeface.pth / blazefaceback.pth by
//    scripts/make-seed-tflite.ts (needs ../shared/seed and a Python with torch, else skipped): converted
//    with `convert`, the emitted blazeface.pth equals the seed's bit for bit; reference, tflite,
//    onnxruntime-node and torch (on the emitted .pth and on the seed's own .pth) agree within
//    |diff| <= 1e-4 * (1 + |ref|) on the seed photos; the detector finds the seed's published 1, 3, 0 faces
//    with the front model.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendFactory, ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { referenceBackend } from '../src/backends/reference.js';
import { tfliteBackend } from '../src/backends/tflite.js';
import { torchBackend } from '../src/backends/torch.js';
import { convertPreset, type ConvertResult } from '../src/convert/convert.js';
import { createDetector } from '../src/detect/detector.js';
import type { Face } from '../src/detect/face.js';
import { SEED_PHOTOS, seedDir } from '../src/fixtures.js';
import { Model, TensorType } from '../src/generated/tflite/tflite_generated.js';
import { decodeRgb, resizeRgb, toModelBatch, type RgbImage } from '../src/image/pixels.js';
import type { Graph, Op, Tensor } from '../src/ir/graph.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset, PACKAGED_PRESETS, type PresetName } from '../src/presets/index.js';
import { TORCH_NAMING } from '../src/presets/torch-naming.js';
import { runReference } from '../src/reference/runtime.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { readTflite } from '../src/tflite/reader.js';
import { TfliteWriteError, writeTflite } from '../src/tflite/writer.js';
import { sha256Hex } from '../src/util/fs.js';
import {
  defaultPython,
  EXPORT_SCRIPT,
  makeSeedTflite,
  SEED_LAYOUTS,
  seedFixtureUnavailable,
  type SeedArchitecture,
  type SeedTfliteFile,
} from '../scripts/make-seed-tflite.js';
import { scaledDiff } from './helpers/tolerance.js';
import { runPython } from './torch-helpers.js';

const REL_TOL = 1e-4;
const summary: string[] = [];
afterAll(() => {
  if (summary.length > 0) console.log(summary.join('\n'));
});

// ---------------------------------------------------------------- helpers

/** Deterministic image-like RGB (smooth waves plus LCG noise). */
function pseudoRandomImage(seed: number, size: number): RgbImage {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        const v = 128 + 90 * Math.sin(x * 0.07 + y * 0.05 * (c + 1) + seed) + (rand() - 0.5) * 80;
        data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
  return { data, width: size, height: size };
}

function bitsOf(data: Float32Array | Int32Array): string {
  return sha256Hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * What a graph means, independent of tensor numbering: the tensors the ops and the graph I/O use (in
 * index order) with name, shape, dtype and a hash of their data's bits; the ops with every attribute and
 * their operands as positions in that list. (buffer, sourceDtype and `folded` describe the source file's
 * storage, which a float32 rewrite changes on purpose.)
 */
function canonical(g: Graph) {
  const used = [...new Set([...g.inputs, ...g.outputs, ...g.ops.flatMap((o) => [...o.inputs, ...o.outputs])])].sort((a, b) => a - b);
  const pos = new Map(used.map((t, i) => [t, i]));
  const at = (i: number) => pos.get(i)!;
  return {
    description: g.description,
    schemaVersion: g.schemaVersion,
    inputs: g.inputs.map(at),
    outputs: g.outputs.map(at),
    tensors: used.map((i) => {
      const t = g.tensors[i]!;
      return { name: t.name, shape: [...t.shape], dtype: t.dtype, data: t.data ? `${t.data.constructor.name} ${bitsOf(t.data)}` : null };
    }),
    ops: g.ops.map((op) => {
      const { index: _index, inputs, outputs, ...attributes } = op;
      return { ...attributes, inputs: inputs.map(at), outputs: outputs.map(at) };
    }),
  };
}

function checkParity(model: string, backend: string, ref: RawOutputs, got: RawOutputs): void {
  expect([got.batch, got.numAnchors, got.numCoords]).toEqual([ref.batch, ref.numAnchors, ref.numCoords]);
  for (const output of ['regressors', 'classificators'] as const) {
    const c = scaledDiff(ref[output], got[output], REL_TOL);
    summary.push(
      `${model.padEnd(12)} ${backend.padEnd(26)} ${output.padEnd(15)} max|diff| ${c.maxAbs.toExponential(2)}  max|diff|/(1+|ref|) ${c.maxScaled.toExponential(2)}`,
    );
    expect(c.failures, `${model} ${backend} ${output}: ${c.failures} elements beyond tolerance, first at ${c.firstFailure}`).toBe(0);
  }
}

function sourceFor(preset: PresetName, file: string, bytes: Uint8Array): ModelSource {
  return { preset: getPreset(preset), tflitePath: file, tfliteBytes: bytes, graph: readTflite(bytes, path.basename(file)), artifactsDir: '' };
}

// ---------------------------------------------------------------- 1. the writer


describe('writeTflite: Graph IR -> TFLite flatbuffer', () => {
  const originals = new Map<PresetName, { file: string; graph: Graph; written: Uint8Array }>();

  beforeAll(async () => {
    for (const name of PACKAGED_PRESETS) {
      const file = resolvePresetModelFile(getPreset(name));
      const graph = readTflite(new Uint8Array(await readFile(file)), path.basename(file));
      originals.set(name, { file, graph, written: writeTflite(graph) });
    }
  });

  it.each(PACKAGED_PRESETS)('%s: readTflite(writeTflite(g)) is g (same tensors, shapes, bits, ops, attributes), and writing is deterministic', (name) => {
    const { graph, written } = originals.get(name)!;
    const back = readTflite(written, `${name}.rewritten.tflite`);
    const a = canonical(graph);
    const b = canonical(back);
    expect(b.tensors.length).toBe(a.tensors.length);
    expect(b.ops.length).toBe(graph.ops.length);
    expect(b).toEqual(a);
    // Every folded weight is now a plain float32 constant: nothing left to fold.
    expect(back.foldedOps).toEqual([]);
    expect(back.tensors.every((t) => t.sourceDtype === t.dtype)).toBe(true);
    // Deterministic, and a fixed point: writing the re-read graph gives the same bytes.
    expect(Buffer.from(writeTflite(graph)).equals(Buffer.from(written))).toBe(true);
    expect(Buffer.from(writeTflite(back)).equals(Buffer.from(written))).toBe(true);
  });

  it('writes the file conventions: TFL3, version 3, empty buffer 0, both op-code fields, aligned float32 data, int32 shape operands', () => {
    const { graph, written } = originals.get('full_range')!;
    expect(String.fromCharCode(...written.subarray(4, 8))).toBe('TFL3');
    const model = Model.getRootAsModel(new flatbuffers.ByteBuffer(written));
    expect(model.version()).toBe(3);
    expect(model.description()).toBe(graph.description);
    expect(model.buffers(0)!.dataLength()).toBe(0);
    const codes = Array.from({ length: model.operatorCodesLength() }, (_, i) => model.operatorCodes(i)!);
    expect(codes.map((c) => c.builtinCode()).sort((x, y) => x - y)).toEqual([0, 3, 4, 17, 19, 22, 23, 34]); // ADD CONV DW MAXPOOL RELU RESHAPE RESIZE PAD
    for (const c of codes) expect(c.deprecatedBuiltinCode()).toBe(c.builtinCode());
    const sg = model.subgraphs(0)!;
    const byType = new Map<number, number>();
    for (let i = 0; i < sg.tensorsLength(); i++) {
      const t = sg.tensors(i)!;
      byType.set(t.type(), (byType.get(t.type()) ?? 0) + 1);
      const data = model.buffers(t.buffer())!.dataArray();
      if (t.buffer() === 0) continue;
      expect(data!.byteOffset - written.byteOffset, `tensor ${t.name()} data alignment`).toSatisfy((o: number) => o % 16 === 0);
      expect(data!.byteLength).toBe(t.shapeArray()!.reduce((p, d) => p * d, 1) * 4);
    }
    expect([...byType.keys()].sort()).toEqual([TensorType.FLOAT32, TensorType.INT32].sort());
    // One int32 operand per PAD, RESHAPE and RESIZE_BILINEAR op; RESHAPE also carries new_shape in its options.
    expect(byType.get(TensorType.INT32)).toBe(graph.ops.filter((o) => ['PAD', 'RESHAPE', 'RESIZE_BILINEAR'].includes(o.type)).length);
    // Each constant has its own buffer; activations share the empty one.
    const constants = readTflite(written, 'x').tensors.filter((t) => t.data).length;
    expect(model.buffersLength()).toBe(constants + 1);
  });

  it.each(['short_range', 'full_range'] as const)(
    '%s: the official TFLite runtime runs the written file and matches the reference on the original graph',
    async (name) => {
      const { graph, written } = originals.get(name)!;
      const size = getPreset(name).inputWidth;
      const images = [pseudoRandomImage(1, size), pseudoRandomImage(2, size)];
      const seed = seedDir();
      if (seed) images.push(...(await Promise.all(SEED_PHOTOS.map(async (f) => resizeRgb(await decodeRgb(path.join(seed, f)), size, size)))));
      const batch = toModelBatch(images);
      const tflite = await tfliteBackend.load(sourceFor(name, `${name}.rewritten.tflite`, written));
      try {
        checkParity(name, 'tflite (written file)', runReference(graph, batch), await tflite.run(batch));
      } finally {
        await tflite.dispose();
      }
    },
  );

  /** A small graph with the ops and attributes BlazeFace does not use (DEPTH_TO_SPACE, RESIZE_BILINEAR, dilation, ...). */
  function smallGraph(): Graph {
    const tensors: Tensor[] = [];
    const ops: Op[] = [];
    let seed = 7;
    const rnd = (n: number) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5));
    const t = (name: string, shape: number[], data?: Float32Array) => {
      tensors.push({ index: tensors.length, name, shape, dtype: 'float32', sourceDtype: 'float32', buffer: 0, ...(data ? { data } : {}) });
      return tensors.length - 1;
    };
    const x = t('input', [1, 8, 8, 4]);
    const d2s = t('d2s', [1, 16, 16, 1]);
    ops.push({ index: ops.length, type: 'DEPTH_TO_SPACE', inputs: [x], outputs: [d2s], blockSize: 2 });
    const rs = t('resize', [1, 12, 12, 1]);
    ops.push({ index: ops.length, type: 'RESIZE_BILINEAR', inputs: [d2s], outputs: [rs], size: [12, 12], alignCorners: false, halfPixelCenters: true });
    const rs2 = t('resize_ac', [1, 12, 12, 1]);
    ops.push({ index: ops.length, type: 'RESIZE_BILINEAR', inputs: [d2s], outputs: [rs2], size: [12, 12], alignCorners: true, halfPixelCenters: false });
    const both = t('both', [1, 12, 12, 2]);
    ops.push({ index: ops.length, type: 'CONCATENATION', inputs: [rs, rs2], outputs: [both], axis: 3, activation: 'NONE' });
    const c1w = t('c1/Kernel', [8, 3, 3, 2], rnd(8 * 9 * 2));
    const c1 = t('c1', [1, 12, 12, 8]);
    ops.push({ index: ops.length, type: 'CONV_2D', inputs: [both, c1w], outputs: [c1], padding: 'SAME', strideH: 1, strideW: 1, dilationH: 2, dilationW: 2, activation: 'RELU6' });
    const mp = t('pool', [1, 6, 6, 8]);
    ops.push({ index: ops.length, type: 'MAX_POOL_2D', inputs: [c1], outputs: [mp], padding: 'VALID', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE' });
    const dww = t('dw/Kernel', [1, 3, 3, 16], rnd(9 * 16));
    const dwb = t('dw/Bias', [16], rnd(16));
    const dw = t('dw', [1, 6, 6, 16]);
    ops.push({ index: ops.length, type: 'DEPTHWISE_CONV_2D', inputs: [mp, dww, dwb], outputs: [dw], padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, depthMultiplier: 2, activation: 'RELU_N1_TO_1' });
    const pd = t('pad', [1, 6, 6, 16]);
    ops.push({ index: ops.length, type: 'PAD', inputs: [mp], outputs: [pd], paddings: [[0, 0], [0, 0], [0, 0], [3, 5]] });
    const sum = t('add', [1, 6, 6, 16]);
    ops.push({ index: ops.length, type: 'ADD', inputs: [pd, dw], outputs: [sum], activation: 'RELU' });
    const r = t('relu', [1, 6, 6, 16]);
    ops.push({ index: ops.length, type: 'RELU', inputs: [sum], outputs: [r] });
    const clw = t('cls/Kernel', [1, 1, 1, 16], rnd(16));
    const clb = t('cls/Bias', [1], rnd(1));
    const cl = t('cls', [1, 6, 6, 1]);
    ops.push({ index: ops.length, type: 'CONV_2D', inputs: [r, clw, clb], outputs: [cl], padding: 'VALID', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'NONE' });
    const reg = t('regressors', [1, 36, 16]);
    ops.push({ index: ops.length, type: 'RESHAPE', inputs: [r], outputs: [reg], newShape: [1, 36, 16] });
    const cls = t('classificators', [1, 36, 1]);
    ops.push({ index: ops.length, type: 'RESHAPE', inputs: [cl], outputs: [cls], newShape: [1, 36, 1] });
    return { source: { fileName: 'small.tflite', sha256: '', byteLength: 0 }, description: 'small', schemaVersion: 3, tensors, ops, foldedOps: [], inputs: [x], outputs: [reg, cls] };
  }

  it('round-trips and runs a graph with every other IR op and attribute (DEPTH_TO_SPACE, both RESIZE_BILINEAR modes, dilation, depth multiplier, fused activations, bias-less conv)', async () => {
    const graph = smallGraph();
    const written = writeTflite(graph);
    const back = readTflite(written, 'small.tflite');
    // The bias-less conv gains a zero bias (the TFLite runtime requires one); everything else is unchanged.
    const a = canonical(graph);
    const b = canonical(back);
    const zero = b.tensors.length - 1;
    expect(b.tensors[zero]).toEqual({ name: 'c1/zero_bias', shape: [8], dtype: 'float32', data: `Float32Array ${bitsOf(new Float32Array(8))}` });
    expect(b.ops[4]!.inputs).toEqual([...a.ops[4]!.inputs, zero]);
    b.ops[4] = { ...b.ops[4]!, inputs: b.ops[4]!.inputs.slice(0, 2) };
    expect({ ...b, tensors: b.tensors.slice(0, zero) }).toEqual(a);
    expect(Buffer.from(writeTflite(back)).equals(Buffer.from(written))).toBe(true);
    const images = [1, 2, 3].map((s) => pseudoRandomImage(s, 8));
    // 8x8x4 input from 8x8 RGB images plus a fourth channel.
    const data = new Float32Array(3 * 8 * 8 * 4);
    images.forEach((img, n) => {
      for (let p = 0; p < 64; p++) for (let c = 0; c < 4; c++) data[(n * 64 + p) * 4 + c] = (img.data[p * 3 + (c % 3)]! / 127.5 - 1) * (c === 3 ? -1 : 1);
    });
    const batch: ImageBatch = { data, shape: [3, 8, 8, 4] };
    const tflite = await tfliteBackend.load(sourceFor('short_range', 'small.tflite', written));
    try {
      const ref = runReference(graph, batch);
      // Not degenerate (the fused activations leave plenty of distinct values), and the zero bias changes nothing.
      expect(new Set(ref.regressors).size).toBeGreaterThan(500); // of 3 x 36 x 16
      expect(new Set(ref.classificators).size).toBeGreaterThan(50);
      expect(runReference(back, batch)).toEqual(ref);
      checkParity('small graph', 'tflite (written file)', ref, await tflite.run(batch));
    } finally {
      await tflite.dispose();
    }
  });

  it('refuses what a float32 TFLite file cannot hold, naming the tensor', () => {
    const graph = smallGraph();
    const tensors = graph.tensors.map((t) => (t.name === 'dw/Bias' ? { ...t, dtype: 'float16' as const } : t));
    expect(() => writeTflite({ ...graph, tensors })).toThrow(TfliteWriteError);
    expect(() => writeTflite({ ...graph, tensors })).toThrow(/'dw\/Bias' is float16/);
    const short = graph.tensors.map((t) => (t.name === 'dw/Bias' ? { ...t, data: new Float32Array(3) } : t));
    expect(() => writeTflite({ ...graph, tensors: short })).toThrow(/'dw\/Bias' has 3 values for shape \[16\]/);
  });
});

// ---------------------------------------------------------------- 2. the seed's models

const SEED = seedDir();
const UNAVAILABLE = await seedFixtureUnavailable(SEED);
const SKIP_NOTE = UNAVAILABLE ? ` (SKIPPED: needs ../shared/seed and python3 with torch: ${UNAVAILABLE})` : '';

/** Faces the seed reports for its front model at 0.75 (README). */
const FRONT_FACES = [1, 3, 0];
/**
 * Faces the back model finds at its 0.65 threshold on the photos enlarged to 256 with centred bilinear
 * (OpenCV's INTER_LINEAR convention, as the seed's cv2.resize): all people in 1face and 3faces, and 3 of
 * the 4 small faces of 4faces (scores 0.82, 0.83, 0.70; the fourth scores 0.55).
 */
const BACK_FACES = [1, 3, 3];

function iou(a: Face['box'], b: Face['box']): number {
  const w = Math.max(0, Math.min(a.xMax, b.xMax) - Math.max(a.xMin, b.xMin));
  const h = Math.max(0, Math.min(a.yMax, b.yMax) - Math.max(a.yMin, b.yMin));
  const inter = w * h;
  const area = (x: Face['box']) => (x.xMax - x.xMin) * (x.yMax - x.yMin);
  return inter / (area(a) + area(b) - inter);
}

describe.skipIf(UNAVAILABLE !== null)(`seed models rebuilt from blazeface.pth / blazefaceback.pth${SKIP_NOTE}`, () => {
  let tmp = '';
  let artifactsRoot = '';
  const files = new Map<SeedArchitecture, SeedTfliteFile>();
  const converted = new Map<SeedArchitecture, ConvertResult>();
  const detected = new Map<SeedArchitecture, Promise<Face[][]>>();

  /** Faces on the three photos with the reference backend at the seed's threshold (blend NMS), once per model. */
  function detectPhotos(arch: SeedArchitecture): Promise<Face[][]> {
    let p = detected.get(arch);
    if (!p) {
      p = (async () => {
        const minScore = arch === 'front' ? 0.75 : 0.65;
        const detector = await createDetector({ preset: arch, backend: 'reference', modelFile: files.get(arch)!.path, minScore, nms: 'blend' });
        try {
          const out: Face[][] = [];
          for (const photo of SEED_PHOTOS) out.push(await detector.detect(path.join(SEED!, photo)));
          return out;
        } finally {
          await detector.dispose();
        }
      })();
      detected.set(arch, p);
    }
    return p;
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'blazeface-seed-models-'));
    artifactsRoot = path.join(tmp, 'artifacts');
    for (const f of await makeSeedTflite({ outDir: path.join(tmp, 'models'), seedDir: SEED! })) files.set(f.architecture, f);
    for (const arch of ['front', 'back'] as const) {
      const r = await convertPreset(getPreset(arch), { modelFile: files.get(arch)!.path, artifactsRoot });
      converted.set(arch, r);
    }
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('front: the rebuilt graph has exactly the op sequence of face_detection_short_range.tflite (the front model in float16)', async () => {
    const front = readTflite(files.get('front')!.bytes, 'face_detection_front.tflite');
    const short = readTflite(new Uint8Array(await readFile(resolvePresetModelFile(getPreset('short_range')))), 'short_range');
    // Op types, attributes and the shapes flowing through, with tensor numbering and names factored out.
    const signature = (g: Graph) =>
      g.ops.map((op) => {
        const { index: _i, inputs, outputs, ...attrs } = op;
        return { ...attrs, inputs: inputs.map((i) => g.tensors[i]!.shape.join('x')), outputs: outputs.map((i) => g.tensors[i]!.shape.join('x')) };
      });
    expect(signature(front)).toEqual(signature(short));
    expect(front.outputs.map((i) => front.tensors[i]!.name)).toEqual(['regressors', 'classificators']);
  });

  it('back: 31 BlazeBlocks (stride 2 at 128->64->32->16), the final block, four heads; every tensor float32', () => {
    const g = readTflite(files.get('back')!.bytes, 'face_detection_back.tflite');
    const count = (type: string) => g.ops.filter((o) => o.type === type).length;
    expect([count('CONV_2D'), count('DEPTHWISE_CONV_2D'), count('ADD'), count('RELU'), count('MAX_POOL_2D'), count('PAD'), count('RESHAPE'), count('CONCATENATION')]).toEqual([
      1 + 32 + 4, 32, 31, 1 + 32, 3, 2, 4, 2,
    ]);
    const dw = g.ops.filter((o): o is Extract<Op, { type: 'DEPTHWISE_CONV_2D' }> => o.type === 'DEPTHWISE_CONV_2D');
    expect(dw.map((o) => g.tensors[o.outputs[0]!]!.shape[1]).filter((s, i, a) => i === 0 || s !== a[i - 1])).toEqual([128, 64, 32, 16, 8]);
    expect(g.tensors.filter((t) => g.ops.some((o) => o.inputs.includes(t.index))).every((t) => t.dtype === 'float32' && t.sourceDtype === 'float32')).toBe(true);
    expect(g.outputs.map((i) => [g.tensors[i]!.name, ...g.tensors[i]!.shape])).toEqual([
      ['regressors', 1, 896, 16],
      ['classificators', 1, 896, 1],
    ]);
  });

  it.each(['front', 'back'] as const)('%s: the file holds the seed weights, transposed to TFLite layout, as the torch-naming irConv table maps them', (arch) => {
    const f = files.get(arch)!;
    const g = readTflite(f.bytes, SEED_LAYOUTS[arch].tflite);
    const convs = g.ops.filter((o) => o.type === 'CONV_2D' || o.type === 'DEPTHWISE_CONV_2D');
    for (const layer of TORCH_NAMING[arch].layers) {
      const op = convs[layer.irConv]!;
      const seedW = f.weights.tensors.get(`${layer.module}.weight`)!;
      const seedB = f.weights.tensors.get(`${layer.module}.bias`)!;
      const kernel = g.tensors[op.inputs[1]!]!;
      const bias = g.tensors[op.inputs[2]!]!;
      expect(bitsOf(bias.data!), `${layer.module}.bias`).toBe(bitsOf(seedB.data));
      // Element (o, i, y, x) of the PyTorch weight sits at (o, y, x, i) (conv) or (0, y, x, o) (depthwise).
      const [o, i, kh, kw] = seedW.shape as [number, number, number, number];
      const k = kernel.data as Float32Array;
      let mismatches = 0;
      for (let a = 0; a < o; a++)
        for (let b = 0; b < i; b++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++) {
              const want = seedW.data[((a * i + b) * kh + y) * kw + x]!;
              const got = layer.kind === 'depthwise' ? k[(y * kw + x) * o + a]! : k[((a * kh + y) * kw + x) * i + b]!;
              if (!Object.is(want, got)) mismatches++;
            }
      expect(mismatches, `${layer.module}.weight`).toBe(0);
    }
  });

  it.each(['front', 'back'] as const)('%s: convert emits a blazeface.pth equal to the seed .pth bit for bit (same keys, order, shapes, values)', async (arch) => {
    const emitted = path.join(artifactsRoot, arch, 'blazeface.pth');
    const seedPth = path.join(SEED!, SEED_LAYOUTS[arch].pth);
    expect(converted.get(arch)!.record.files.map((r) => r.path)).toContain(`${arch}/blazeface.pth`);
    const r = await runPython(defaultPython(), [EXPORT_SCRIPT, 'compare', seedPth, emitted]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.toString()) as {
      tensors: [number, number];
      sameOrder: boolean;
      shapeMismatches: unknown[];
      valueMismatches: unknown[];
      elements: number;
      identical: boolean;
    };
    const n = arch === 'front' ? 74 : 138;
    expect(report.tensors).toEqual([n, n]);
    expect(report.sameOrder).toBe(true);
    expect(report.shapeMismatches).toEqual([]);
    expect(report.valueMismatches).toEqual([]);
    expect(report.identical).toBe(true);
    summary.push(`${arch.padEnd(12)} blazeface.pth vs seed ${SEED_LAYOUTS[arch].pth}: ${n} tensors, ${report.elements} float32 values, bit-identical`);
    // And the comparison can fail: front vs back weights are different files with different keys.
    if (arch === 'back') {
      const other = await runPython(defaultPython(), [EXPORT_SCRIPT, 'compare', path.join(SEED!, 'blazeface.pth'), emitted]);
      expect((JSON.parse(other.stdout.toString()) as { identical: boolean }).identical).toBe(false);
    }
  });

  it.each(['front', 'back'] as const)(
    '%s: reference, tflite, onnxruntime-node and torch (emitted .pth and the seed .pth) agree on the seed photos',
    async (arch) => {
      const preset = getPreset(arch);
      const source = await loadModelSource(preset, { modelFile: files.get(arch)!.path, artifactsRoot });
      const images = await Promise.all(
        SEED_PHOTOS.map(async (f) => resizeRgb(await decodeRgb(path.join(SEED!, f)), preset.inputWidth, preset.inputHeight)),
      );
      const batch = toModelBatch(images);
      const ref = await (await referenceBackend.load(source)).run(batch);
      const seedPth = new Uint8Array(await readFile(path.join(SEED!, SEED_LAYOUTS[arch].pth)));
      const runs: [string, BackendFactory, ModelSource][] = [
        ['tflite', tfliteBackend, source],
        ['onnxruntime-node', onnxruntimeNodeBackend, source],
        ['torch (emitted .pth)', torchBackend, source],
        [`torch (seed ${SEED_LAYOUTS[arch].pth})`, torchBackend, { ...source, overrides: { pth: seedPth } }],
      ];
      const outputs: RawOutputs[] = [];
      for (const [label, factory, src] of runs) {
        expect(await factory.availability(), label).toEqual({ available: true });
        const backend: Backend = await factory.load(src);
        try {
          const got = await backend.run(batch);
          checkParity(`${arch} ${preset.inputWidth}px`, label, ref, got);
          outputs.push(got);
        } finally {
          await backend.dispose();
        }
      }
      // Same weights, same module, same machine: the two torch runs are identical.
      expect(Array.from(outputs[3]!.regressors)).toEqual(Array.from(outputs[2]!.regressors));
      expect(Array.from(outputs[3]!.classificators)).toEqual(Array.from(outputs[2]!.classificators));
    },
  );

  it("front: the detector finds the seed's published 1, 3 and 0 faces at 0.75 (blend NMS)", async () => {
    const frontFaces = await detectPhotos('front');
    summary.push(`front        faces at 0.75: ${SEED_PHOTOS.map((p, i) => `${p} ${frontFaces[i]!.length} (${frontFaces[i]!.map((f) => f.score.toFixed(3)).join(', ')})`).join('; ')}`);
    expect(frontFaces.map((f) => f.length)).toEqual(FRONT_FACES);
  });

  it('back: at 0.65 the detector finds 1, 3 and 3 faces, every front-model face among them', async () => {
    const frontFaces = await detectPhotos('front');
    const backFaces = await detectPhotos('back');
    const matches = frontFaces.map((faces, i) => faces.map((f) => Math.max(0, ...backFaces[i]!.map((b) => iou(f.box, b.box)))));
    summary.push(
      `back         faces at 0.65 (photos upscaled to 256): ${SEED_PHOTOS.map((p, i) => `${p} ${backFaces[i]!.length} (${backFaces[i]!.map((f) => f.score.toFixed(3)).join(', ')})`).join('; ')}`,
      `back         best IoU of each front face with a back face: ${matches.map((m, i) => `${SEED_PHOTOS[i]} [${m.map((v) => v.toFixed(2)).join(', ')}]`).join('; ')}`,
    );
    // Unlike front, the back model also finds small faces in 4faces.png. Every face front finds is found
    // by back too, at the same place.
    expect(backFaces.map((f) => f.length)).toEqual(BACK_FACES);
    expect(matches.flat().length).toBe(FRONT_FACES.reduce((a, b) => a + b, 0));
    for (const m of matches) for (const v of m) expect(v).toBeGreaterThan(0.5);
  });
});

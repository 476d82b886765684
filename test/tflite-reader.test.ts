// readTflite on MediaPipe's three face detectors, on a hand-built sparse model, and on corrupted bytes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfliteFormatError, ToolkitError, UnsupportedOpError } from '../src/errors.js';
import {
  ActivationFunctionType,
  Buffer as FbBuffer,
  BuiltinOperator,
  BuiltinOptions,
  Conv2DOptions,
  DimensionMetadata,
  DimensionType,
  Model,
  Operator,
  OperatorCode,
  Padding,
  SparseIndexVector,
  SparsityParameters,
  SubGraph,
  Tensor as FbTensor,
  TensorType,
  Uint8Vector,
} from '../src/generated/tflite/tflite_generated.js';
import { detectorOutputs, elementCount, imageInput, type Graph } from '../src/ir/graph.js';
import { PRESETS } from '../src/presets/index.js';
import { formatInspect } from '../src/tflite/format.js';
import { halfToFloat } from '../src/tflite/half.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { loadTfliteFile, readTflite } from '../src/tflite/reader.js';
import { locate } from './helpers/tflite-patch.js';

const MODELS = ['short_range', 'full_range', 'full_range_sparse'] as const;
const file = (name: (typeof MODELS)[number]) => resolvePresetModelFile(PRESETS[name]);
const bytesOf = (name: (typeof MODELS)[number]) => new Uint8Array(readFileSync(file(name)));

const graphs = {} as Record<(typeof MODELS)[number], Graph>;
beforeAll(async () => {
  for (const m of MODELS) graphs[m] = await loadTfliteFile(file(m));
});

function opCounts(g: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const op of [...g.ops, ...g.foldedOps]) counts[op.type] = (counts[op.type] ?? 0) + 1;
  return counts;
}

/** Index of the first element that differs (lengths included), or -1. */
function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** Catch the error thrown by `fn`, failing the test when nothing is thrown. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, none was thrown');
}

describe('MediaPipe face detectors', () => {
  it('short_range: input [1,128,128,3], outputs regressors [1,896,16] and classificators [1,896,1]', () => {
    const g = graphs.short_range;
    expect(g.source.fileName).toBe('face_detection_short_range.tflite');
    expect(g.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(g.source.byteLength).toBe(readFileSync(file('short_range')).byteLength);
    expect(g.schemaVersion).toBe(3);
    expect(imageInput(g).shape).toEqual([1, 128, 128, 3]);
    const { regressors, classificators } = detectorOutputs(g);
    expect([regressors.name, regressors.shape]).toEqual(['regressors', [1, 896, 16]]);
    expect([classificators.name, classificators.shape]).toEqual(['classificators', [1, 896, 1]]);
  });

  it('full range models: input [1,192,192,3], 2304 anchors', () => {
    for (const m of ['full_range', 'full_range_sparse'] as const) {
      const g = graphs[m];
      expect(imageInput(g).shape).toEqual([1, 192, 192, 3]);
      const { regressors, classificators } = detectorOutputs(g);
      expect(regressors.shape).toEqual([1, 2304, 16]);
      expect(classificators.shape).toEqual([1, 2304, 1]);
    }
    expect(graphs.full_range.outputs.map((i) => graphs.full_range.tensors[i]!.name)).toEqual(['reshaped_regressor_face_4', 'reshaped_classifier_face_4']);
    expect(graphs.full_range_sparse.outputs.map((i) => graphs.full_range_sparse.tensors[i]!.name)).toEqual(['Identity', 'Identity_1']);
  });

  it('operator inventory', () => {
    expect(opCounts(graphs.short_range)).toEqual({ DEQUANTIZE: 74, CONV_2D: 21, RELU: 17, DEPTHWISE_CONV_2D: 16, ADD: 16, PAD: 11, MAX_POOL_2D: 3, RESHAPE: 4, CONCATENATION: 2 });
    expect(opCounts(graphs.full_range)).toEqual({ DEQUANTIZE: 178, CONV_2D: 49, RELU: 47, DEPTHWISE_CONV_2D: 40, ADD: 23, MAX_POOL_2D: 4, PAD: 8, RESIZE_BILINEAR: 3, RESHAPE: 2 });
    expect(opCounts(graphs.full_range_sparse)).toEqual({ PAD: 43, DEQUANTIZE: 182, CONV_2D: 49, DEPTHWISE_CONV_2D: 42, DENSIFY: 46, ADD: 19, RESIZE_BILINEAR: 3, DEPTH_TO_SPACE: 2, RESHAPE: 2 });
  });

  it('lifted operands and normalized attributes', () => {
    const sr = graphs.short_range;
    const concat = sr.ops.filter((o) => o.type === 'CONCATENATION');
    expect(concat.map((o) => o.type === 'CONCATENATION' && o.axis)).toEqual([1, 1]);
    const reshapes = sr.ops.flatMap((o) => (o.type === 'RESHAPE' ? [o.newShape] : []));
    expect(reshapes).toEqual([[1, 512, 1], [1, 384, 1], [1, 512, 16], [1, 384, 16]]);
    const pad = sr.ops.find((o) => o.type === 'PAD');
    expect(pad && pad.type === 'PAD' && pad.paddings).toEqual([[0, 0], [0, 0], [0, 0], [0, 4]]);
    expect(pad!.inputs).toHaveLength(1);
    const resize = graphs.full_range.ops.filter((o) => o.type === 'RESIZE_BILINEAR');
    expect(resize.map((o) => o.type === 'RESIZE_BILINEAR' && [o.size, o.alignCorners, o.halfPixelCenters])).toEqual([
      [[12, 12], false, true],
      [[24, 24], false, true],
      [[48, 48], false, true],
    ]);
    const d2s = graphs.full_range_sparse.ops.filter((o) => o.type === 'DEPTH_TO_SPACE');
    expect(d2s.map((o) => o.type === 'DEPTH_TO_SPACE' && o.blockSize)).toEqual([2, 2]);
  });

  it('every constant a runtime op reads is a finite float32 array; folded outputs are marked', () => {
    for (const m of MODELS) {
      const g = graphs[m];
      const folded = new Set(g.foldedOps.flatMap((o) => o.outputs));
      for (const op of g.ops) {
        for (const idx of op.inputs) {
          const t = g.tensors[idx]!;
          expect(t.dtype, `${m} #${idx} ${t.name}`).toBe('float32');
          if (!t.data) continue;
          expect(t.data).toBeInstanceOf(Float32Array);
          expect(t.data.length).toBe(elementCount(t.shape));
          expect(t.data.every(Number.isFinite), `${m} ${t.name} finite`).toBe(true);
          // In these files every weight is stored float16 behind a DEQUANTIZE.
          expect(t.folded && folded.has(idx) && t.sourceDtype === 'float16', `${m} ${t.name} folded from float16`).toBe(true);
        }
      }
    }
  });

  it('full_range_sparse: DENSIFY puts every stored value at the coordinate the sparse index arrays name', () => {
    const bytes = bytesOf('full_range_sparse');
    const g = graphs.full_range_sparse;
    const model = Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes));
    const sg = model.subgraphs(0)!;
    let checked = 0;
    for (const densifyOp of g.foldedOps.filter((o) => o.type === 'DENSIFY')) {
      const src = sg.tensors(densifyOp.inputs[0]!)!;
      const sp = src.sparsity()!;
      // These files use one layout: dense O,H,W then a CSR innermost dimension.
      expect(Array.from(sp.traversalOrderArray()!)).toEqual([0, 1, 2, 3]);
      const dm = sp.dimMetadata(3)!;
      const seg = readIndexVector(dm, 'segments');
      const idx = readIndexVector(dm, 'indices');
      const raw = model.buffers(src.buffer())!.dataArray()!;
      const shape = Array.from(src.shapeArray()!);
      const inner = shape[3]!;
      const expected = new Float32Array(elementCount(shape));
      for (let row = 0; row + 1 < seg.length; row++) {
        for (let k = seg[row]!; k < seg[row + 1]!; k++) expected[row * inner + idx[k]!] = halfToFloat(raw[2 * k]! | (raw[2 * k + 1]! << 8));
      }
      const densified = g.tensors[densifyOp.outputs[0]!]!;
      expect(firstMismatch(densified.data!, expected), densified.name).toBe(-1);
      // The DEQUANTIZE after it widens float16 exactly, so the float32 weight holds the same values.
      const deq = g.foldedOps.find((o) => o.type === 'DEQUANTIZE' && o.inputs[0] === densified.index)!;
      const weight = g.tensors[deq.outputs[0]!]!;
      expect(weight.dtype).toBe('float32');
      expect(weight.data).toBeInstanceOf(Float32Array);
      expect(firstMismatch(weight.data!, expected), weight.name).toBe(-1);
      checked++;
    }
    expect(checked).toBe(46);
  });

  it('full_range vs full_range_sparse: different networks, not the same weights in two encodings', () => {
    // Reported finding: the sparse file is a separately trained, pruned model (other channel widths,
    // DEPTH_TO_SPACE heads, no MAX_POOL_2D). Only the stem shapes coincide, and even there values differ.
    const weights = (g: Graph) => g.ops.filter((o) => o.type === 'CONV_2D').map((o) => g.tensors[o.inputs[1]!]!);
    const dense = weights(graphs.full_range);
    const sparse = weights(graphs.full_range_sparse);
    expect(dense.length).toBe(sparse.length);
    expect(dense[0]!.shape).toEqual(sparse[0]!.shape);
    expect(Array.from(dense[0]!.data!)).not.toEqual(Array.from(sparse[0]!.data!));
    const sameShape = dense.filter((t, i) => t.shape.join() === sparse[i]!.shape.join()).length;
    expect(sameShape).toBeLessThan(dense.length);
  });

  it('formatInspect lists I/O, op counts, ops in order and the tensor table', () => {
    const text = formatInspect(graphs.short_range);
    expect(text).toContain('face_detection_short_range.tflite (229032 bytes');
    expect(text).toMatch(/outputs:\n {2}#175 regressors float32 \[1, 896, 16\]\n {2}#174 classificators float32 \[1, 896, 1\]/);
    expect(text).toMatch(/DEQUANTIZE +74 +\(folded at load\)/);
    expect(text).toMatch(/\n +2 +CONV_2D +\[0, 224, 193\] -> \[3\] +stride 2x2 SAME NONE\n/);
    expect(text).toMatch(/\n +1 +conv2d\/Kernel +float16 +1 +\[24, 5, 5, 3\] +const\n/);
    expect(text).toMatch(/\n *224 +conv2d\/Kernel_dequantize +float32 \(float16\) +0 +\[24, 5, 5, 3\] +folded\n/);
  });
});

function readIndexVector(dm: DimensionMetadata, which: 'segments' | 'indices'): number[] {
  const type = which === 'segments' ? dm.arraySegmentsType() : dm.arrayIndicesType();
  expect([SparseIndexVector.Uint8Vector, SparseIndexVector.Uint16Vector, SparseIndexVector.Int32Vector]).toContain(type);
  // All three index tables have the same layout (one `values` vector); read it through Uint8Vector's offsets.
  const table = (which === 'segments' ? dm.arraySegments(new Uint8Vector()) : dm.arrayIndices(new Uint8Vector())) as Uint8Vector;
  const bb = table.bb!;
  const vecPos = bb.__vector(table.bb_pos + bb.__offset(table.bb_pos, 4));
  const len = bb.__vector_len(table.bb_pos + bb.__offset(table.bb_pos, 4));
  const width = type === SparseIndexVector.Uint8Vector ? 1 : type === SparseIndexVector.Uint16Vector ? 2 : 4;
  return Array.from({ length: len }, (_, i) => (width === 1 ? bb.readUint8(vecPos + i) : width === 2 ? bb.readUint16(vecPos + 2 * i) : bb.readInt32(vecPos + 4 * i)));
}

describe('corrupt input gives typed errors naming what and where', () => {
  const original = () => bytesOf('short_range');

  it('1 KiB-truncated file', () => {
    const err = thrown(() => readTflite(original().subarray(0, 1024), 'cut.tflite'));
    expect(err).toBeInstanceOf(TfliteFormatError);
    const e = err as TfliteFormatError;
    expect(e.code).toBe('TFLITE_OUT_OF_BOUNDS');
    expect(e.file).toBe('cut.tflite');
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.message).toMatch(/^cut\.tflite: .* at byte offset \d+: .*file is 1024 bytes/);
  });

  it('any truncation point is a TfliteFormatError, never a RangeError', () => {
    const bytes = original();
    for (const n of [0, 7, 8, 16, 100, 4096, bytes.length >> 1, bytes.length - 16, bytes.length - 1]) {
      expect(thrown(() => readTflite(bytes.slice(0, n), 't.tflite')), `truncated to ${n}`).toBeInstanceOf(TfliteFormatError);
    }
  });

  it('random byte corruption yields a graph or a ToolkitError, nothing else', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const base = original();
    for (let trial = 0; trial < 60; trial++) {
      const bytes = base.slice();
      // Corrupt the structural head of the file (tables live before the large weight buffers).
      for (let k = 0; k < 8; k++) bytes[Math.floor(rand() * 16384)] = Math.floor(rand() * 256);
      try {
        readTflite(bytes, 'fuzz.tflite');
      } catch (err) {
        expect(err, `trial ${trial}: ${String(err)}`).toBeInstanceOf(ToolkitError);
      }
    }
  });

  it('wrong file identifier', () => {
    const bytes = original();
    bytes.set([0x58, 0x58, 0x58, 0x58], 4);
    const e = thrown(() => readTflite(bytes, 'x.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.offset]).toEqual(['TFLITE_BAD_IDENTIFIER', 4]);
    expect(e.message).toContain('expected "TFL3"');
  });

  it('buffer index out of range', () => {
    const bytes = original();
    const { tensorBuffer } = locate(bytes);
    new DataView(bytes.buffer).setUint32(tensorBuffer(1), 5000, true);
    const e = thrown(() => readTflite(bytes, 'b.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_BUFFER_INDEX', 'conv2d/Kernel']);
    expect(e.message).toMatch(/refers to buffer 5000, but the model has 88 buffers/);
  });

  it('shape / data size mismatch', () => {
    const bytes = original();
    const { tensorShapeEntry } = locate(bytes);
    new DataView(bytes.buffer).setInt32(tensorShapeEntry(1, 3), 4, true); // [24,5,5,3] -> [24,5,5,4]
    const e = thrown(() => readTflite(bytes, 's.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_DATA_SIZE', 'conv2d/Kernel']);
    expect(e.offset).toBeGreaterThan(0);
    expect(e.message).toMatch(/holds 3600 bytes of data, expected 4800 \(shape \[24,5,5,4\] x 2-byte float16\)/);
  });

  it('unsupported operator', () => {
    const bytes = original();
    const { opcodeDeprecatedByte, model } = locate(bytes);
    expect(model.operatorCodes(1)!.deprecatedBuiltinCode()).toBe(BuiltinOperator.RELU);
    bytes[opcodeDeprecatedByte(1)] = BuiltinOperator.LOGISTIC;
    const e = thrown(() => readTflite(bytes, 'u.tflite')) as UnsupportedOpError;
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect([e.opName, e.opIndex, e.file]).toEqual(['LOGISTIC', 3, 'u.tflite']);
    expect(e.message).toBe('u.tflite: operator #3 LOGISTIC is not supported');
  });

  it('more than one subgraph is refused with a reason', () => {
    const e = thrown(() => readTflite(buildSparseModel({ extraSubgraph: true }), 'two.tflite')) as TfliteFormatError;
    expect([e.code, e.message]).toEqual(['TFLITE_SUBGRAPHS', expect.stringMatching(/expected exactly one subgraph, found 2/)]);
  });
});

// ---- a hand-built model: block-sparse float16 weight -> DENSIFY -> DEQUANTIZE -> CONV_2D ----

const HALF = { 1.5: 0x3e00, [-4]: 0xc400, 2.25: 0x4080, 3: 0x4200, 0.5: 0x3800, [-6]: 0xc600, 0: 0 } as Record<number, number>;
// [O=4,1,1,I=4] with 2x2 blocks over (O, I); block (1,0) is empty.
const BLOCK_VALUES = [1.5, 0, 0, -4, 2.25, 3, 0, 0, 0.5, 0, 0, -6];
const DENSE_WEIGHT = [1.5, 0, 2.25, 3, 0, -4, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, -6];

function buildSparseModel(opts: { badIndex?: boolean; extraSubgraph?: boolean } = {}): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const data = new Uint8Array(BLOCK_VALUES.length * 2);
  BLOCK_VALUES.forEach((v, i) => {
    data[2 * i] = HALF[v]! & 0xff;
    data[2 * i + 1] = HALF[v]! >> 8;
  });
  const u8vec = (values: number[]) => Uint8Vector.createUint8Vector(b, Uint8Vector.createValuesVector(b, values));
  const dense = (n: number) => DimensionMetadata.createDimensionMetadata(b, DimensionType.DENSE, n, SparseIndexVector.NONE, 0, SparseIndexVector.NONE, 0);
  const dims = [
    dense(2),
    dense(1),
    dense(1),
    DimensionMetadata.createDimensionMetadata(b, DimensionType.SPARSE_CSR, 0, SparseIndexVector.Uint8Vector, u8vec([0, 2, 3]), SparseIndexVector.Uint8Vector, u8vec([0, 1, opts.badIndex ? 2 : 1])),
    dense(2),
    dense(2),
  ];
  const sparsity = SparsityParameters.createSparsityParameters(
    b,
    SparsityParameters.createTraversalOrderVector(b, [0, 1, 2, 3, 4, 5]),
    SparsityParameters.createBlockMapVector(b, [0, 3]),
    SparsityParameters.createDimMetadataVector(b, dims),
  );
  const tensor = (name: string, shape: number[], type: TensorType, buffer: number, sp = 0) => {
    const n = b.createString(name);
    const s = FbTensor.createShapeVector(b, shape);
    FbTensor.startTensor(b);
    FbTensor.addShape(b, s);
    FbTensor.addType(b, type);
    FbTensor.addBuffer(b, buffer);
    FbTensor.addName(b, n);
    if (sp) FbTensor.addSparsity(b, sp);
    return FbTensor.endTensor(b);
  };
  const tensors = [
    tensor('x', [1, 1, 1, 4], TensorType.FLOAT32, 0),
    tensor('w_sparse', [4, 1, 1, 4], TensorType.FLOAT16, 1, sparsity),
    tensor('w_f16', [4, 1, 1, 4], TensorType.FLOAT16, 0),
    tensor('w', [4, 1, 1, 4], TensorType.FLOAT32, 0),
    tensor('y', [1, 1, 1, 4], TensorType.FLOAT32, 0),
  ];
  const op = (code: number, inputs: number[], outputs: number[], options?: [BuiltinOptions, number]) => {
    const i = Operator.createInputsVector(b, inputs);
    const o = Operator.createOutputsVector(b, outputs);
    Operator.startOperator(b);
    Operator.addOpcodeIndex(b, code);
    Operator.addInputs(b, i);
    Operator.addOutputs(b, o);
    if (options) {
      Operator.addBuiltinOptionsType(b, options[0]);
      Operator.addBuiltinOptions(b, options[1]);
    }
    return Operator.endOperator(b);
  };
  const conv = Conv2DOptions.createConv2DOptions(b, Padding.VALID, 1, 1, ActivationFunctionType.RELU, 1, 1);
  const ops = [op(0, [1], [2]), op(1, [2], [3]), op(2, [0, 3, -1], [4], [BuiltinOptions.Conv2DOptions, conv])];
  const subgraph = () =>
    SubGraph.createSubGraph(
      b,
      SubGraph.createTensorsVector(b, tensors),
      SubGraph.createInputsVector(b, [0]),
      SubGraph.createOutputsVector(b, [4]),
      SubGraph.createOperatorsVector(b, ops),
      b.createString('main'),
    );
  const subgraphs = opts.extraSubgraph ? [subgraph(), subgraph()] : [subgraph()];
  const codes = [BuiltinOperator.DENSIFY, BuiltinOperator.DEQUANTIZE, BuiltinOperator.CONV_2D].map((c) =>
    OperatorCode.createOperatorCode(b, Math.min(c, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES), 0, 1, c),
  );
  const buffers = [FbBuffer.createBuffer(b, 0, 0n, 0n), FbBuffer.createBuffer(b, FbBuffer.createDataVector(b, data), 0n, 0n)];
  const root = Model.createModel(
    b,
    3,
    Model.createOperatorCodesVector(b, codes),
    Model.createSubgraphsVector(b, subgraphs),
    b.createString('hand-built sparse test model'),
    Model.createBuffersVector(b, buffers),
    0,
    0,
  );
  b.finish(root, 'TFL3');
  return b.asUint8Array().slice();
}

describe('hand-built block-sparse model', () => {
  it('DENSIFY -> DEQUANTIZE chain folds into a float32 weight; CONV_2D keeps [x, w]', () => {
    const g = readTflite(buildSparseModel(), 'sparse.tflite');
    expect(g.description).toBe('hand-built sparse test model');
    expect(g.foldedOps.map((o) => [o.type, o.inputs, o.outputs])).toEqual([
      ['DENSIFY', [1], [2]],
      ['DEQUANTIZE', [2], [3]],
    ]);
    const w = g.tensors[3]!;
    expect([w.dtype, w.sourceDtype, w.folded]).toEqual(['float32', 'float16', true]);
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(Array.from(w.data!)).toEqual(DENSE_WEIGHT);
    expect(g.tensors[1]!.data).toBeUndefined(); // the sparse encoding itself has no dense value
    expect(g.ops).toEqual([
      { index: 2, outputs: [4], type: 'CONV_2D', inputs: [0, 3], padding: 'VALID', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'RELU' },
    ]);
  });

  it('a bad sparse index names the tensor', () => {
    const e = thrown(() => readTflite(buildSparseModel({ badIndex: true }), 'bad.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_SPARSITY', 'w_sparse']);
    expect(e.message).toMatch(/^bad\.tflite: tensor #1 'w_sparse' \(input of operator #0 DENSIFY\): level 3: array_indices\[2\] = 2 is outside 0\.\.1/);
  });
});

describe('resolvePresetModelFile', () => {
  it('packaged presets resolve into @mediapipe/face_detection; user presets need a file', () => {
    expect(resolvePresetModelFile(PRESETS.full_range)).toMatch(/@mediapipe\/face_detection\/face_detection_full_range\.tflite$/);
    expect(() => resolvePresetModelFile(PRESETS.front)).toThrow(/preset 'front' has no packaged model: pass the path of your face_detection_front\.tflite/);
    const existing = resolvePresetModelFile(PRESETS.short_range);
    expect(resolvePresetModelFile(PRESETS.front, path.relative(process.cwd(), existing))).toBe(existing);
    expect(() => resolvePresetModelFile(PRESETS.front, 'models/front.tflite')).toThrow(
      /^models\/front\.tflite: no such model file \(expected a \.tflite for preset 'front'\)$/,
    );
  });
});

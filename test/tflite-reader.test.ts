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
import { PACKAGED_PRESETS, PRESETS } from '../src/presets/index.js';
import { formatInspect } from '../src/tflite/format.js';
import { halfToFloat } from '../src/tflite/half.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { loadTfliteFile, readTflite } from '../src/tflite/reader.js';
import { locate } from './helpers/tflite-patch.js';

const file = (name: (typeof PACKAGED_PRESETS)[number]) => resolvePresetModelFile(PRESETS[name]);
const bytesOf = (name: (typeof PACKAGED_PRESETS)[number]) => new Uint8Array(readFileSync(file(name)));

const graphs = {} as Record<(typeof PACKAGED_PRESETS)[number], Graph>;
beforeAll(async () => {
  for (const m of PACKAGED_PRESETS) graphs[m] = await loadTfliteFile(file(m));
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
    for (const m of PACKAGED_PRESETS) {
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

  it('an operator with more operands than its kernel takes is refused, not read with the extras ignored', () => {
    // A corrupt inputs length makes the vector run on into the next bytes (found by npm run fuzz).
    const relu = graphs.short_range.ops.find((o) => o.type === 'RELU')!;
    const bytes = original();
    const bb = new flatbuffers.ByteBuffer(bytes);
    const op = Model.getRootAsModel(bb).subgraphs(0)!.operators(relu.index)!;
    const inputsLength = bb.__vector(op.bb_pos + bb.__offset(op.bb_pos, 6)) - 4;
    expect(bb.readInt32(inputsLength)).toBe(1);
    new DataView(bytes.buffer).setInt32(inputsLength, 2, true);
    const e = thrown(() => readTflite(bytes, 'arity.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect(e.code).toBe('TFLITE_OPERATOR');
    expect(e.message).toBe(`arity.tflite: operator #${relu.index} RELU has 2 inputs, expected 1`);
  });

  it('a depthwise filter that is not [1,KH,KW,C*M] is refused (emitters rely on it)', () => {
    const g = graphs.short_range;
    const dw = g.ops.find((o) => o.type === 'DEPTHWISE_CONV_2D')!;
    const filter = g.tensors[dw.inputs[1]!]!;
    expect(filter.shape).toEqual([1, 3, 3, 24]);
    const bytes = original();
    const { tensorShapeEntry } = locate(bytes);
    const view = new DataView(bytes.buffer);
    [3, 1, 3, 24].forEach((d, k) => view.setInt32(tensorShapeEntry(filter.index, k), d, true)); // same element count
    const e = thrown(() => readTflite(bytes, 'dw.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_SHAPE', filter.name]);
    expect(e.message).toContain(`operator #${dw.index} DEPTHWISE_CONV_2D: filter '${filter.name}' [3,1,3,24] and bias`);
  });

  it('PAD paddings and RESIZE_BILINEAR size must agree with the declared output shape', () => {
    const constantOperand = (bytes: Uint8Array, opIndex: number, slot: number) => {
      const { sg, model } = locate(bytes);
      const t = sg.tensors(sg.operators(opIndex)!.inputs(slot)!)!;
      const data = model.buffers(t.buffer())!.dataArray()!;
      return { name: t.name()!, view: new DataView(bytes.buffer, data.byteOffset, data.byteLength) };
    };
    const sr = graphs.short_range;
    const pad = sr.ops.find((o) => o.type === 'PAD')!;
    const bytes = original();
    const paddings = constantOperand(bytes, pad.index, 1);
    expect(paddings.view.getInt32(28, true)).toBe(4);
    paddings.view.setInt32(28, 2 ** 30, true); // channels after: 4 -> 2^30
    const e = thrown(() => readTflite(bytes, 'pad.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_SHAPE', sr.tensors[pad.outputs[0]!]!.name]);
    expect(e.message).toMatch(/PAD: paddings \[0,0,0,0,0,0,0,1073741824\] give \[1,64,64,1073741848\], output '.*' is declared \[1,64,64,28\]/);

    const fr = graphs.full_range;
    const resize = fr.ops.find((o) => o.type === 'RESIZE_BILINEAR')!;
    const bytes2 = bytesOf('full_range');
    const size = constantOperand(bytes2, resize.index, 1);
    size.view.setInt32(4, 100000, true);
    expect(() => readTflite(bytes2, 'resize.tflite')).toThrow(/RESIZE_BILINEAR: size \[12,100000\] differs from output '.*' shape \[1,12,12,\d+\]/);
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

function buildSparseModel(opts: { badIndex?: boolean; extraSubgraph?: boolean; padding?: number } = {}): Uint8Array {
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
  const conv = Conv2DOptions.createConv2DOptions(b, opts.padding ?? Padding.VALID, 1, 1, ActivationFunctionType.RELU, 1, 1);
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

  it('a padding value other than SAME/VALID is refused, not read as SAME', () => {
    const e = thrown(() => readTflite(buildSparseModel({ padding: 7 }), 'pad.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.message]).toEqual(['TFLITE_OPTIONS', 'pad.tflite: operator #2 CONV_2D: padding is 7, expected SAME (0) or VALID (1)']);
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

// ---- hostile size fields: small files that would make a naive reader allocate gigabytes ----

/** A one-subgraph model from tensor tables built by `tensors` (activations use buffer 0). */
function hostileModel(build: (b: flatbuffers.Builder) => { tensors: number[]; ops?: number[]; codes?: number[]; buffers?: number[] }): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const parts = build(b);
  const tv = SubGraph.createTensorsVector(b, parts.tensors);
  const ov = SubGraph.createOperatorsVector(b, parts.ops ?? []);
  SubGraph.startSubGraph(b);
  SubGraph.addTensors(b, tv);
  SubGraph.addOperators(b, ov);
  const sg = SubGraph.endSubGraph(b);
  const subgraphs = Model.createSubgraphsVector(b, [sg]);
  const codes = Model.createOperatorCodesVector(b, parts.codes ?? []);
  FbBuffer.startBuffer(b);
  const buffers = Model.createBuffersVector(b, [FbBuffer.endBuffer(b), ...(parts.buffers ?? [])]);
  Model.startModel(b);
  Model.addVersion(b, 3);
  Model.addOperatorCodes(b, codes);
  Model.addSubgraphs(b, subgraphs);
  Model.addBuffers(b, buffers);
  b.finish(Model.endModel(b), 'TFL3');
  return b.asUint8Array().slice();
}

function tensorTable(b: flatbuffers.Builder, shape: number, type: TensorType, buffer: number, sparsity = 0): number {
  FbTensor.startTensor(b);
  FbTensor.addShape(b, shape);
  FbTensor.addType(b, type);
  FbTensor.addBuffer(b, buffer);
  if (sparsity) FbTensor.addSparsity(b, sparsity);
  return FbTensor.endTensor(b);
}

describe('hostile size fields are refused before anything large is allocated', () => {
  it('one shape vector shared by many tensor entries (quadratic blow-up of a 16 KB file)', () => {
    const bytes = hostileModel((b) => {
      const t = tensorTable(b, FbTensor.createShapeVector(b, Array(2000).fill(1)), TensorType.FLOAT32, 0);
      return { tensors: Array(2000).fill(t) };
    });
    expect(bytes.length).toBeLessThan(20000);
    const e = thrown(() => readTflite(bytes, 'amp.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect(e.code).toBe('TFLITE_TOO_LARGE');
    expect(e.message).toMatch(/^amp\.tflite: Model\.subgraphs\[0\]\.tensors\[\d+\]\.shape at byte offset \d+: .*shared offsets exceed \d+ bytes \(8x the file size\)$/);
  });

  it('one constant buffer shared by many tensors is counted once per tensor', () => {
    const bytes = hostileModel((b) => {
      b.prep(16, 65536);
      const data = FbBuffer.createDataVector(b, new Uint8Array(65536));
      const buffer = FbBuffer.createBuffer(b, data, 0n, 0n);
      const t = tensorTable(b, FbTensor.createShapeVector(b, [16384]), TensorType.FLOAT32, 1);
      return { tensors: Array(1100).fill(t), buffers: [buffer] };
    });
    const e = thrown(() => readTflite(bytes, 'shared.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_TOO_LARGE', 'tensor_1024']);
    expect(e.message).toMatch(/^shared\.tflite: tensor #1024 'tensor_1024' brings the model's constant data to 16793600 elements, more than the 16777216/);
  });

  it('DENSIFY of a 20000x20000 shape declared by a 20 KB file', () => {
    const n = 20000;
    const bytes = hostileModel((b) => {
      const u8vec = (values: ArrayLike<number>) => Uint8Vector.createUint8Vector(b, Uint8Vector.createValuesVector(b, Array.from(values)));
      const segments = new Uint8Array(n + 1);
      segments[n] = 1; // one stored value, in the last row
      const dims = [
        DimensionMetadata.createDimensionMetadata(b, DimensionType.DENSE, n, SparseIndexVector.NONE, 0, SparseIndexVector.NONE, 0),
        DimensionMetadata.createDimensionMetadata(b, DimensionType.SPARSE_CSR, 0, SparseIndexVector.Uint8Vector, u8vec(segments), SparseIndexVector.Uint8Vector, u8vec([0])),
      ];
      const sparsity = SparsityParameters.createSparsityParameters(
        b,
        SparsityParameters.createTraversalOrderVector(b, [0, 1]),
        SparsityParameters.createBlockMapVector(b, []),
        SparsityParameters.createDimMetadataVector(b, dims),
      );
      const buffer = FbBuffer.createBuffer(b, FbBuffer.createDataVector(b, [0x00, 0x3c]), 0n, 0n);
      const shape = () => FbTensor.createShapeVector(b, [n, n]);
      const tensors = [tensorTable(b, shape(), TensorType.FLOAT16, 1, sparsity), tensorTable(b, shape(), TensorType.FLOAT16, 0)];
      const inputs = Operator.createInputsVector(b, [0]);
      const outputs = Operator.createOutputsVector(b, [1]);
      Operator.startOperator(b);
      Operator.addOpcodeIndex(b, 0);
      Operator.addInputs(b, inputs);
      Operator.addOutputs(b, outputs);
      const op = Operator.endOperator(b);
      const code = OperatorCode.createOperatorCode(b, BuiltinOperator.DENSIFY, 0, 1, BuiltinOperator.DENSIFY);
      return { tensors, ops: [op], codes: [code], buffers: [buffer] };
    });
    expect(bytes.length).toBeLessThan(25000);
    const e = thrown(() => readTflite(bytes, 'bomb.tflite')) as TfliteFormatError;
    expect(e).toBeInstanceOf(TfliteFormatError);
    expect([e.code, e.tensor]).toEqual(['TFLITE_TOO_LARGE', 'tensor_0']);
    expect(e.offset).toBeGreaterThan(0);
    expect(e.message).toMatch(/^bomb\.tflite: operator #0 DENSIFY of 'tensor_0' \[20000,20000\] brings the model's constant data to 400000001 elements/);
  });
});

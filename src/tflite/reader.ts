// TFLite flatbuffer -> Graph IR. The only module (with ./verify.ts) that knows the file format.
// Order of work: verify the structure (bounds, identifier), then read tensors and their constant
// data (size-checked), then walk the operators in order: DEQUANTIZE and DENSIFY of constants are
// evaluated here ("folded") so every consumer sees float32 weights; constant int32 operands of
// PAD / RESHAPE / RESIZE_BILINEAR become attributes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { TfliteFormatError, ToolkitError, UnsupportedOpError } from '../errors.js';
import {
  ActivationFunctionType,
  AddOptions,
  BuiltinOperator,
  BuiltinOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthToSpaceOptions,
  DepthwiseConv2DOptions,
  DimensionType,
  Int32Vector,
  Model,
  Operator as FbOperator,
  Padding as FbPadding,
  Pool2DOptions,
  ReshapeOptions,
  ResizeBilinearOptions,
  SparseIndexVector,
  Tensor as FbTensor,
  TensorType,
  Uint16Vector,
  Uint8Vector,
  type DimensionMetadata as FbDimensionMetadata,
} from '../generated/tflite/tflite_generated.js';
import type { Activation, DType, FoldedOp, Graph, Op, Padding, Tensor } from '../ir/graph.js';
import { elementCount } from '../ir/graph.js';
import { sha256Hex } from '../util/fs.js';
import { densify, type DimensionMetadata, type SparsityFormat } from './densify.js';
import { decodeFloat16 } from './half.js';
import { verifyTflite } from './verify.js';

const DTYPES: Partial<Record<TensorType, { dtype: DType; bytes: number }>> = {
  [TensorType.FLOAT32]: { dtype: 'float32', bytes: 4 },
  [TensorType.FLOAT16]: { dtype: 'float16', bytes: 2 },
  [TensorType.INT32]: { dtype: 'int32', bytes: 4 },
  [TensorType.UINT8]: { dtype: 'uint8', bytes: 1 },
  [TensorType.INT64]: { dtype: 'int64', bytes: 8 },
  [TensorType.BOOL]: { dtype: 'bool', bytes: 1 },
  [TensorType.INT8]: { dtype: 'int8', bytes: 1 },
};

const ACTIVATIONS: Partial<Record<ActivationFunctionType, Activation>> = {
  [ActivationFunctionType.NONE]: 'NONE',
  [ActivationFunctionType.RELU]: 'RELU',
  [ActivationFunctionType.RELU_N1_TO_1]: 'RELU_N1_TO_1',
  [ActivationFunctionType.RELU6]: 'RELU6',
  [ActivationFunctionType.TANH]: 'TANH',
};

/** Operand counts TFLite's kernels accept (their Prepare checks NumInputs): [min, max]. More is not ignored. */
const ARITY: Partial<Record<BuiltinOperator, readonly [number, number]>> = {
  [BuiltinOperator.DEQUANTIZE]: [1, 1],
  [BuiltinOperator.DENSIFY]: [1, 1],
  [BuiltinOperator.CONV_2D]: [2, 3],
  [BuiltinOperator.DEPTHWISE_CONV_2D]: [2, 3],
  [BuiltinOperator.ADD]: [2, 2],
  [BuiltinOperator.RELU]: [1, 1],
  [BuiltinOperator.PAD]: [2, 2],
  [BuiltinOperator.MAX_POOL_2D]: [1, 1],
  [BuiltinOperator.RESHAPE]: [1, 2],
  [BuiltinOperator.CONCATENATION]: [1, Infinity],
  [BuiltinOperator.RESIZE_BILINEAR]: [2, 2],
  [BuiltinOperator.DEPTH_TO_SPACE]: [1, 1],
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Reader-side facts about a tensor that the IR does not carry. */
interface TensorExtra {
  sparsity?: SparsityFormat;
  /** Stored values of a sparse tensor, in traversal order. */
  sparseValues?: Float32Array | Int32Array;
  scale?: Float32Array;
  zeroPoint?: number[];
  quantizedDimension: number;
  dataOffset: number;
}

/** TFLite's rule: the op code is the larger of the two code fields (old files only set the byte one). */
function builtinCode(model: Model, index: number): { code: number; name: string } {
  const oc = model.operatorCodes(index)!;
  const code = Math.max(oc.builtinCode(), oc.deprecatedBuiltinCode());
  const known = BuiltinOperator[code] as string | undefined;
  if (code === BuiltinOperator.CUSTOM) return { code, name: `CUSTOM(${oc.customCode() ?? '?'})` };
  return { code, name: known ?? `BUILTIN_${code}` };
}

function intArray(values: Int32Array | null): number[] {
  return values ? Array.from(values) : [];
}

function decodeData(bytes: Uint8Array, type: TensorType, count: number, fail: (msg: string) => never): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case TensorType.FLOAT32: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case TensorType.FLOAT16:
      return decodeFloat16(bytes, count);
    case TensorType.INT32: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    case TensorType.INT8:
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
    case TensorType.UINT8:
    case TensorType.BOOL:
      return Int32Array.from(bytes.subarray(0, count));
    case TensorType.INT64: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n) fail(`int64 value ${v} at element ${i} does not fit int32`);
        out[i] = Number(v);
      }
      return out;
    }
    default:
      return fail(`cannot decode element type ${TensorType[type]}`);
  }
}

function sparseIndexVector(dm: FbDimensionMetadata, which: 'segments' | 'indices'): ArrayLike<number> | undefined {
  const type = which === 'segments' ? dm.arraySegmentsType() : dm.arrayIndicesType();
  // The generated union accessor fills whichever table object it is given.
  const table = <T extends Int32Vector | Uint16Vector | Uint8Vector>(obj: T): T | null =>
    (which === 'segments' ? dm.arraySegments(obj) : dm.arrayIndices(obj)) as T | null;
  switch (type) {
    case SparseIndexVector.Int32Vector:
      return table(new Int32Vector())?.valuesArray() ?? undefined;
    case SparseIndexVector.Uint16Vector:
      return table(new Uint16Vector())?.valuesArray() ?? undefined;
    case SparseIndexVector.Uint8Vector:
      return table(new Uint8Vector())?.valuesArray() ?? undefined;
    default:
      return undefined;
  }
}

/** Parse a TFLite model already in memory. `fileName` is used in messages and `graph.source`. */
export function readTflite(bytes: Uint8Array, fileName: string): Graph {
  try {
    return readVerified(bytes, fileName);
  } catch (err) {
    if (err instanceof ToolkitError) throw err;
    // Anything else is a reader bug or a corruption the verifier missed: keep the context.
    throw new TfliteFormatError('TFLITE_INVALID', `${fileName}: cannot read model: ${err instanceof Error ? err.message : String(err)}`, {
      file: fileName,
      cause: err,
    });
  }
}

function readVerified(input: Uint8Array, file: string): Graph {
  verifyTflite(input, file);
  // Typed-array accessors need the flatbuffer's own alignment to hold in memory too.
  const bytes = input.byteOffset % 16 === 0 ? input : new Uint8Array(input); // (Buffer#slice would not copy)
  const model = Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes));

  const fail = (code: string, message: string, extra: { offset?: number; tensor?: string } = {}): never => {
    throw new TfliteFormatError(code, `${file}: ${message}`, { file, ...extra });
  };

  if (model.subgraphsLength() !== 1) {
    fail('TFLITE_SUBGRAPHS', `expected exactly one subgraph, found ${model.subgraphsLength()} (multi-subgraph / control-flow models are not supported)`);
  }
  const sg = model.subgraphs(0)!;
  const numTensors = sg.tensorsLength();
  const numBuffers = model.buffersLength();

  // Constant elements materialized (decoded, densified, dequantized). Tensors may share one buffer and
  // a small sparse encoding may declare a huge dense shape: bound the total before allocating.
  const constantBudget = Math.max(2 ** 24, 16 * bytes.byteLength);
  let constantElements = 0;
  const reserve = (count: number, what: string, tensor: string, offset: number): void => {
    constantElements += count;
    if (constantElements > constantBudget) {
      fail('TFLITE_TOO_LARGE', `${what} brings the model's constant data to ${constantElements} elements, more than the ${constantBudget} this reader allows for a ${bytes.byteLength}-byte file`, { tensor, offset });
    }
  };

  const tensors: Mutable<Tensor>[] = [];
  const extras: TensorExtra[] = [];
  const fbTensor = new FbTensor();
  for (let i = 0; i < numTensors; i++) {
    const t = sg.tensors(i, fbTensor)!;
    const name = t.name() ?? `tensor_${i}`;
    const shape = intArray(t.shapeArray());
    const info = DTYPES[t.type()];
    if (!info) fail('TFLITE_DTYPE', `tensor #${i} '${name}' has element type ${TensorType[t.type()] ?? t.type()}, expected one of ${Object.values(DTYPES).map((d) => d!.dtype).join(', ')}`, { tensor: name });
    const { dtype, bytes: elemBytes } = info!;
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail('TFLITE_SHAPE', `tensor #${i} '${name}' has shape [${shape.join(',')}], expected non-negative dimensions`, { tensor: name });
    const bufferIndex = t.buffer();
    if (bufferIndex >= numBuffers) {
      fail('TFLITE_BUFFER_INDEX', `tensor #${i} '${name}' refers to buffer ${bufferIndex}, but the model has ${numBuffers} buffers (expected 0..${numBuffers - 1})`, { tensor: name });
    }
    const tensor: Mutable<Tensor> = { index: i, name, shape, dtype, sourceDtype: dtype, buffer: bufferIndex };
    const extra: TensorExtra = { quantizedDimension: 0, dataOffset: -1 };

    const q = t.quantization();
    if (q && q.scaleLength() > 0) {
      extra.scale = q.scaleArray()!;
      extra.zeroPoint = Array.from({ length: q.zeroPointLength() }, (_, k) => Number(q.zeroPoint(k)));
      extra.quantizedDimension = q.quantizedDimension();
    }

    const buf = model.buffers(bufferIndex)!;
    if (buf.offset() > 1n) fail('TFLITE_EXTERNAL_BUFFER', `tensor '${name}' stores its data outside the flatbuffer (buffer ${bufferIndex}, >2 GB model layout), which is not supported`, { tensor: name });
    const data = buf.dataArray();
    if (data && data.byteLength > 0) {
      extra.dataOffset = data.byteOffset - bytes.byteOffset;
      const tensorFail = (msg: string): never => fail('TFLITE_DATA', `tensor #${i} '${name}': ${msg}`, { tensor: name, offset: extra.dataOffset });
      const sp = t.sparsity();
      if (sp) {
        if (data.byteLength % elemBytes !== 0) tensorFail(`sparse data is ${data.byteLength} bytes, not a multiple of the ${elemBytes}-byte ${dtype} element`);
        const dims: DimensionMetadata[] = [];
        for (let k = 0; k < sp.dimMetadataLength(); k++) {
          const dm = sp.dimMetadata(k)!;
          if (dm.format() === DimensionType.DENSE) dims.push({ format: 'DENSE', denseSize: dm.denseSize() });
          else if (dm.format() === DimensionType.SPARSE_CSR) {
            dims.push({ format: 'SPARSE_CSR', denseSize: dm.denseSize(), segments: sparseIndexVector(dm, 'segments'), indices: sparseIndexVector(dm, 'indices') });
          } else fail('TFLITE_SPARSITY', `tensor #${i} '${name}': dim_metadata[${k}] has format ${dm.format()}, expected DENSE or SPARSE_CSR`, { tensor: name });
        }
        extra.sparsity = { traversalOrder: intArray(sp.traversalOrderArray()), blockMap: intArray(sp.blockMapArray()), dimMetadata: dims };
        reserve(data.byteLength / elemBytes, `tensor #${i} '${name}'`, name, extra.dataOffset);
        extra.sparseValues = decodeData(data, t.type(), data.byteLength / elemBytes, tensorFail);
      } else {
        const expected = elementCount(shape) * elemBytes;
        if (data.byteLength !== expected) {
          fail(
            'TFLITE_DATA_SIZE',
            `tensor #${i} '${name}' (buffer ${bufferIndex}) holds ${data.byteLength} bytes of data, expected ${expected} (shape [${shape.join(',')}] x ${elemBytes}-byte ${dtype})`,
            { tensor: name, offset: extra.dataOffset },
          );
        }
        reserve(elementCount(shape), `tensor #${i} '${name}'`, name, extra.dataOffset);
        tensor.data = decodeData(data, t.type(), elementCount(shape), tensorFail);
      }
    }
    tensors.push(tensor);
    extras.push(extra);
  }

  const tensorRef = (opDesc: string, role: string, idx: number): Mutable<Tensor> => {
    if (!Number.isInteger(idx) || idx < 0 || idx >= numTensors) fail('TFLITE_TENSOR_INDEX', `${opDesc}: ${role} tensor index ${idx} is out of range (expected 0..${numTensors - 1})`);
    return tensors[idx]!;
  };

  const ops: Op[] = [];
  const foldedOps: FoldedOp[] = [];
  const fbOp = new FbOperator();
  for (let i = 0; i < sg.operatorsLength(); i++) {
    const op = sg.operators(i, fbOp)!;
    const opcodeIndex = op.opcodeIndex();
    if (opcodeIndex >= model.operatorCodesLength()) {
      fail('TFLITE_OPCODE_INDEX', `operator #${i} uses opcode_index ${opcodeIndex}, but the model has ${model.operatorCodesLength()} operator codes`);
    }
    const { code, name: opName } = builtinCode(model, opcodeIndex);
    const desc = `operator #${i} ${opName}`;
    const rawInputs = intArray(op.inputsArray());
    const outputs = intArray(op.outputsArray());
    if (outputs.length !== 1) fail('TFLITE_OPERATOR', `${desc} has ${outputs.length} outputs, expected 1`);
    // Extra operands would otherwise be silently ignored (e.g. a corrupt inputs length reading past the vector).
    const arity = ARITY[code as BuiltinOperator];
    if (arity && (rawInputs.length < arity[0] || rawInputs.length > arity[1])) {
      fail('TFLITE_OPERATOR', `${desc} has ${rawInputs.length} inputs, expected ${arity[0] === arity[1] ? arity[0] : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} to ${arity[1]}`}`);
    }
    outputs.forEach((o) => tensorRef(desc, 'output', o));
    const out = tensors[outputs[0]!]!;
    const outExtra = extras[outputs[0]!]!;
    const input = (k: number, role: string): Mutable<Tensor> => {
      if (k >= rawInputs.length) fail('TFLITE_OPERATOR', `${desc} has ${rawInputs.length} inputs, expected a ${role} at position ${k}`);
      return tensorRef(desc, role, rawInputs[k]!);
    };
    const optionsType = op.builtinOptionsType();
    const options = <T>(type: BuiltinOptions, ctor: new () => T, required: boolean): T | null => {
      if (optionsType === BuiltinOptions.NONE && !required) return null;
      if (optionsType !== type) fail('TFLITE_OPTIONS', `${desc} has builtin options of type ${BuiltinOptions[optionsType] ?? optionsType}, expected ${BuiltinOptions[type]}`);
      return op.builtinOptions(new ctor()) as T;
    };
    const activation = (fn: ActivationFunctionType): Activation => {
      const a = ACTIVATIONS[fn];
      if (!a) throw new UnsupportedOpError(`${opName} with fused activation ${ActivationFunctionType[fn] ?? fn}`, i, file);
      return a;
    };
    const padding = (p: FbPadding): Padding => {
      if (p === FbPadding.SAME) return 'SAME';
      if (p === FbPadding.VALID) return 'VALID';
      return fail('TFLITE_OPTIONS', `${desc}: padding is ${p}, expected SAME (0) or VALID (1)`);
    };
    const positive = (value: number, what: string): number => {
      if (!Number.isInteger(value) || value < 1) fail('TFLITE_OPTIONS', `${desc}: ${what} is ${value}, expected a positive integer`);
      return value;
    };
    const constInt = (k: number, role: string): number[] => {
      const t = input(k, role);
      if (!(t.data instanceof Int32Array) || t.dtype !== 'int32') {
        fail('TFLITE_OPERAND', `${desc}: ${role} tensor '${t.name}' must be a constant int32 tensor (dtype ${t.dtype}, ${t.data ? 'constant' : 'not constant'})`, { tensor: t.name });
      }
      return Array.from(t.data as Int32Array);
    };
    const base = { index: i, outputs };
    const dataInputs = (...ks: number[]): number[] => ks.map((k) => input(k, `input ${k}`).index);

    switch (code) {
      case BuiltinOperator.DEQUANTIZE:
      case BuiltinOperator.DENSIFY: {
        const src = input(0, 'input');
        const srcExtra = extras[src.index]!;
        const folded: FoldedOp = { index: i, type: code === BuiltinOperator.DENSIFY ? 'DENSIFY' : 'DEQUANTIZE', inputs: [src.index], outputs };
        let values: Float32Array | Int32Array;
        if (code === BuiltinOperator.DENSIFY) {
          if (!srcExtra.sparsity || !srcExtra.sparseValues) throw new UnsupportedOpError(`DENSIFY of '${src.name}', which is not a constant sparse tensor`, i, file);
          reserve(elementCount(src.shape), `${desc} of '${src.name}' [${src.shape.join(',')}]`, src.name, srcExtra.dataOffset);
          try {
            values = densify(src.shape, srcExtra.sparsity, srcExtra.sparseValues);
          } catch (err) {
            if (err instanceof ToolkitError) throw err;
            return fail('TFLITE_SPARSITY', `tensor #${src.index} '${src.name}' (input of ${desc}): ${(err as Error).message}`, { tensor: src.name, offset: srcExtra.dataOffset });
          }
          if (out.dtype !== src.dtype) fail('TFLITE_DTYPE', `${desc}: output '${out.name}' is ${out.dtype}, expected the input's ${src.dtype}`, { tensor: out.name });
          out.data = values;
        } else {
          if (!src.data) throw new UnsupportedOpError(`DEQUANTIZE of '${src.name}', which is not constant (runtime dequantization)`, i, file);
          if (out.dtype !== 'float32') fail('TFLITE_DTYPE', `${desc}: output '${out.name}' is ${out.dtype}, expected float32`, { tensor: out.name });
          reserve(src.data.length, `${desc} of '${src.name}'`, src.name, srcExtra.dataOffset);
          out.data = dequantize(src, srcExtra, (msg) => fail('TFLITE_QUANTIZATION', `${desc}: input '${src.name}': ${msg}`, { tensor: src.name }));
        }
        if (out.data.length !== elementCount(out.shape)) {
          fail('TFLITE_SHAPE', `${desc}: output '${out.name}' has shape [${out.shape.join(',')}] (${elementCount(out.shape)} elements), the input gives ${out.data.length}`, { tensor: out.name });
        }
        out.folded = true;
        out.sourceDtype = src.sourceDtype;
        outExtra.dataOffset = srcExtra.dataOffset;
        foldedOps.push(folded);
        break;
      }
      case BuiltinOperator.CONV_2D:
      case BuiltinOperator.DEPTHWISE_CONV_2D: {
        const hasBias = rawInputs.length >= 3 && rawInputs[2] !== -1;
        const inputs = hasBias ? dataInputs(0, 1, 2) : dataInputs(0, 1);
        // The IR promises filter [O,KH,KW,I] / [1,KH,KW,C*M] and bias [O]; emitters read the shapes as such.
        const filter = tensors[inputs[1]!]!;
        const filterOk = filter.shape.length === 4 && (code === BuiltinOperator.CONV_2D || filter.shape[0] === 1);
        const bias = hasBias ? tensors[inputs[2]!]! : undefined;
        if (!filterOk || (bias && (bias.shape.length !== 1 || bias.shape[0] !== filter.shape[code === BuiltinOperator.CONV_2D ? 0 : 3]))) {
          fail('TFLITE_SHAPE', `${desc}: filter '${filter.name}' [${filter.shape.join(',')}]${bias ? ` and bias '${bias.name}' [${bias.shape.join(',')}]` : ''} do not fit ${code === BuiltinOperator.CONV_2D ? '[O,KH,KW,I] and [O]' : '[1,KH,KW,C*M] and [C*M]'}`, { tensor: filter.name });
        }
        // Both option tables carry the same window geometry fields.
        const convGeometry = (o: Conv2DOptions | DepthwiseConv2DOptions) => ({
          padding: padding(o.padding()),
          strideH: positive(o.strideH(), 'stride_h'),
          strideW: positive(o.strideW(), 'stride_w'),
          dilationH: positive(o.dilationHFactor(), 'dilation_h_factor'),
          dilationW: positive(o.dilationWFactor(), 'dilation_w_factor'),
        });
        if (code === BuiltinOperator.CONV_2D) {
          const o = options(BuiltinOptions.Conv2DOptions, Conv2DOptions, true)!;
          ops.push({
            ...base,
            type: 'CONV_2D',
            inputs,
            ...convGeometry(o),
            activation: activation(o.fusedActivationFunction()),
          });
        } else {
          const o = options(BuiltinOptions.DepthwiseConv2DOptions, DepthwiseConv2DOptions, true)!;
          // depth_multiplier is redundant (newer converters may leave it unset): derive it from the shapes.
          const inC = tensors[inputs[0]!]!.shape[3];
          const outC = tensors[inputs[1]!]!.shape[3];
          if (inC === undefined || outC === undefined || inC === 0 || outC % inC !== 0) {
            fail('TFLITE_SHAPE', `${desc}: filter channels ${outC} are not a multiple of input channels ${inC}`);
          }
          ops.push({
            ...base,
            type: 'DEPTHWISE_CONV_2D',
            inputs,
            ...convGeometry(o),
            depthMultiplier: outC! / inC!,
            activation: activation(o.fusedActivationFunction()),
          });
        }
        break;
      }
      case BuiltinOperator.ADD: {
        const o = options(BuiltinOptions.AddOptions, AddOptions, false);
        ops.push({ ...base, type: 'ADD', inputs: dataInputs(0, 1), activation: activation(o ? o.fusedActivationFunction() : ActivationFunctionType.NONE) });
        break;
      }
      case BuiltinOperator.RELU:
        ops.push({ ...base, type: 'RELU', inputs: dataInputs(0) });
        break;
      case BuiltinOperator.PAD: {
        const x = input(0, 'input');
        const flat = constInt(1, 'paddings');
        if (flat.length !== 2 * x.shape.length || flat.some((p) => p < 0)) {
          fail('TFLITE_OPERAND', `${desc}: paddings [${flat.join(',')}] must hold ${x.shape.length} non-negative [before, after] pairs for input '${x.name}'`);
        }
        const paddings = x.shape.map((_, d) => [flat[2 * d]!, flat[2 * d + 1]!] as const);
        // Like RESHAPE: the lifted operand must agree with the declared output (consumers size buffers from either).
        const padded = x.shape.map((d, k) => d + paddings[k]![0] + paddings[k]![1]);
        if (out.shape.length > 0 && padded.join(',') !== out.shape.join(',')) {
          fail('TFLITE_SHAPE', `${desc}: paddings [${flat.join(',')}] give [${padded.join(',')}], output '${out.name}' is declared [${out.shape.join(',')}]`, { tensor: out.name });
        }
        ops.push({ ...base, type: 'PAD', inputs: [x.index], paddings });
        break;
      }
      case BuiltinOperator.MAX_POOL_2D: {
        const o = options(BuiltinOptions.Pool2DOptions, Pool2DOptions, true)!;
        ops.push({
          ...base,
          type: 'MAX_POOL_2D',
          inputs: dataInputs(0),
          padding: padding(o.padding()),
          strideH: positive(o.strideH(), 'stride_h'),
          strideW: positive(o.strideW(), 'stride_w'),
          filterH: positive(o.filterHeight(), 'filter_height'),
          filterW: positive(o.filterWidth(), 'filter_width'),
          activation: activation(o.fusedActivationFunction()),
        });
        break;
      }
      case BuiltinOperator.RESHAPE: {
        // TFLite prefers the shape operand; files without it carry new_shape in the options.
        const x = input(0, 'input');
        let newShape: number[];
        if (rawInputs.length >= 2 && rawInputs[1] !== -1) newShape = constInt(1, 'shape');
        else {
          const o = options(BuiltinOptions.ReshapeOptions, ReshapeOptions, false);
          newShape = o ? intArray(o.newShapeArray()) : [];
          if (newShape.length === 0) fail('TFLITE_OPERAND', `${desc}: no shape operand and no new_shape option`);
        }
        newShape = resolveReshape(newShape, elementCount(x.shape), (msg) => fail('TFLITE_OPERAND', `${desc}: ${msg}`));
        if (newShape.join(',') !== out.shape.join(',')) {
          fail('TFLITE_SHAPE', `${desc}: new shape [${newShape.join(',')}] differs from output '${out.name}' shape [${out.shape.join(',')}]`, { tensor: out.name });
        }
        ops.push({ ...base, type: 'RESHAPE', inputs: [x.index], newShape });
        break;
      }
      case BuiltinOperator.CONCATENATION: {
        const o = options(BuiltinOptions.ConcatenationOptions, ConcatenationOptions, true)!;
        const rank = out.shape.length;
        const axis = o.axis() < 0 ? o.axis() + rank : o.axis();
        if (axis < 0 || axis >= rank) fail('TFLITE_OPTIONS', `${desc}: axis ${o.axis()} is out of range for rank ${rank}`);
        ops.push({ ...base, type: 'CONCATENATION', inputs: dataInputs(...rawInputs.map((_, k) => k)), axis, activation: activation(o.fusedActivationFunction()) });
        break;
      }
      case BuiltinOperator.RESIZE_BILINEAR: {
        const o = options(BuiltinOptions.ResizeBilinearOptions, ResizeBilinearOptions, false);
        const size = constInt(1, 'size');
        if (size.length !== 2 || size.some((s) => s < 1)) fail('TFLITE_OPERAND', `${desc}: size [${size.join(',')}] must be two positive integers [height, width]`);
        if (out.shape.length > 0 && (out.shape.length !== 4 || out.shape[1] !== size[0] || out.shape[2] !== size[1])) {
          fail('TFLITE_SHAPE', `${desc}: size [${size.join(',')}] differs from output '${out.name}' shape [${out.shape.join(',')}]`, { tensor: out.name });
        }
        ops.push({
          ...base,
          type: 'RESIZE_BILINEAR',
          inputs: dataInputs(0),
          size: [size[0]!, size[1]!],
          alignCorners: o ? o.alignCorners() : false,
          halfPixelCenters: o ? o.halfPixelCenters() : false,
        });
        break;
      }
      case BuiltinOperator.DEPTH_TO_SPACE: {
        const o = options(BuiltinOptions.DepthToSpaceOptions, DepthToSpaceOptions, true)!;
        ops.push({ ...base, type: 'DEPTH_TO_SPACE', inputs: dataInputs(0), blockSize: positive(o.blockSize(), 'block_size') });
        break;
      }
      default:
        throw new UnsupportedOpError(opName, i, file);
    }
  }

  // Every runtime op computes in float32: a float16 or sparse weight reaching one means a DEQUANTIZE is missing.
  for (const op of ops) {
    for (const idx of op.inputs) {
      const t = tensors[idx]!;
      if (t.dtype !== 'float32') {
        fail('TFLITE_DTYPE', `operator #${op.index} ${op.type}: input tensor #${idx} '${t.name}' is ${t.dtype}, expected float32`, { tensor: t.name });
      }
    }
  }

  const graphInputs = intArray(sg.inputsArray());
  const graphOutputs = intArray(sg.outputsArray());
  graphInputs.forEach((t) => tensorRef('subgraph', 'input', t));
  graphOutputs.forEach((t) => tensorRef('subgraph', 'output', t));

  return {
    source: { fileName: file, sha256: sha256Hex(input), byteLength: input.byteLength },
    description: model.description() ?? '',
    schemaVersion: model.version(),
    tensors,
    ops,
    foldedOps,
    inputs: graphInputs,
    outputs: graphOutputs,
  };
}

/** Replace a single -1 by the size that keeps the element count; check the product. */
function resolveReshape(shape: number[], count: number, fail: (msg: string) => never): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.some((d) => d < -1)) fail(`new shape [${shape.join(',')}] has invalid dimensions`);
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const resolved = unknown === 1 && known > 0 ? shape.map((d) => (d === -1 ? count / known : d)) : shape;
  if (elementCount(resolved) !== count || !resolved.every(Number.isInteger)) fail(`new shape [${shape.join(',')}] does not hold the input's ${count} elements`);
  return resolved;
}

/** DEQUANTIZE of a constant: float16 widens exactly; int8/uint8 use scale * (q - zero_point), per tensor or per channel. */
function dequantize(src: Tensor, extra: TensorExtra, fail: (msg: string) => never): Float32Array {
  const data = src.data!;
  if (src.dtype === 'float16') return Float32Array.from(data);
  if (src.dtype !== 'int8' && src.dtype !== 'uint8') return fail(`dequantizing ${src.dtype} is not supported (expected float16, int8 or uint8)`);
  const scale = extra.scale;
  if (!scale || scale.length === 0) return fail('no quantization scale');
  const zp = extra.zeroPoint ?? [];
  const out = new Float32Array(data.length);
  if (scale.length === 1) {
    const z = zp[0] ?? 0;
    for (let i = 0; i < data.length; i++) out[i] = scale[0]! * (data[i]! - z);
    return out;
  }
  const dim = extra.quantizedDimension;
  const channels = src.shape[dim];
  if (channels !== scale.length) return fail(`${scale.length} scales for dimension ${dim} of size ${channels}`);
  const inner = src.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = scale[c]! * (data[i]! - (zp[c] ?? 0));
  }
  return out;
}

/** Read a .tflite file from disk (graph.source gets its base name, sha256 and size). */
export async function loadTfliteFile(file: string): Promise<Graph> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new ToolkitError('FILE_NOT_READABLE', `cannot read model file ${file}: ${(err as Error).message}`, { file, cause: err });
  }
  return readTflite(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path.basename(file));
}

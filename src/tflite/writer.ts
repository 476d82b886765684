// Graph IR -> TFLite flatbuffer (schema version 3, identifier "TFL3"), the inverse of ./reader.ts for
// float32 models. Built with the flatc-generated builders of schemas/tflite.fbs. What it writes:
// - the tensors the runtime ops and the graph inputs/outputs use, in their original relative order
//   (tensors only reachable through folded DEQUANTIZE/DENSIFY ops are dropped: their float32 results
//   are what the ops read), then one int32 constant per PAD (paddings [rank,2]), RESHAPE (shape) and
//   RESIZE_BILINEAR (size) operand, in op order, since the IR keeps those as attributes, and a zero
//   float32 bias for a CONV_2D / DEPTHWISE_CONV_2D without one (the TFLite runtime's conv kernel refuses
//   a bias-less node: "has_bias was not true"; the converter always writes one);
// - constants as little-endian float32 (int32 for the shape-like operands), one buffer each, 16-byte
//   aligned like the converter's; buffer 0 is the empty sentinel and every activation points at it;
// - one OperatorCode per builtin in first-use order, with builtin_code and deprecated_builtin_code
//   both set (the byte field holds 127, PLACEHOLDER_FOR_GREATER_OP_CODES, for codes above it);
// - each op's builtin options, RESHAPE's new_shape both as operand and option.
// The output is deterministic (same graph, same bytes) and readTflite() gives back an equivalent graph
// (identical when every conv has a bias, as in MediaPipe's models; else the same plus the zero biases).
import * as flatbuffers from 'flatbuffers';
import { ToolkitError } from '../errors.js';
import {
  ActivationFunctionType,
  AddOptions,
  BuiltinOperator,
  BuiltinOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthToSpaceOptions,
  DepthwiseConv2DOptions,
  Buffer as FbBuffer,
  Model,
  Operator as FbOperator,
  OperatorCode,
  Padding as FbPadding,
  PadOptions,
  Pool2DOptions,
  ReshapeOptions,
  ResizeBilinearOptions,
  SubGraph,
  Tensor as FbTensor,
  TensorType,
} from '../generated/tflite/tflite_generated.js';
import { elementCount, type Activation, type Graph, type Op, type OpType, type Padding } from '../ir/graph.js';

/** Schema version written into Model.version (what current converters write). */
export const TFLITE_SCHEMA_VERSION = 3;

/** The graph cannot be written as a float32 TFLite model (names the tensor or op). */
export class TfliteWriteError extends ToolkitError {}

export interface WriteTfliteOptions {
  /** Model.description; default the graph's own description. */
  readonly description?: string;
  /** SubGraph.name; default 'main'. */
  readonly subgraphName?: string;
}

const OPCODES: Readonly<Record<OpType, BuiltinOperator>> = {
  CONV_2D: BuiltinOperator.CONV_2D,
  DEPTHWISE_CONV_2D: BuiltinOperator.DEPTHWISE_CONV_2D,
  ADD: BuiltinOperator.ADD,
  RELU: BuiltinOperator.RELU,
  PAD: BuiltinOperator.PAD,
  MAX_POOL_2D: BuiltinOperator.MAX_POOL_2D,
  RESHAPE: BuiltinOperator.RESHAPE,
  CONCATENATION: BuiltinOperator.CONCATENATION,
  RESIZE_BILINEAR: BuiltinOperator.RESIZE_BILINEAR,
  DEPTH_TO_SPACE: BuiltinOperator.DEPTH_TO_SPACE,
};

const ACTIVATIONS: Readonly<Record<Activation, ActivationFunctionType>> = {
  NONE: ActivationFunctionType.NONE,
  RELU: ActivationFunctionType.RELU,
  RELU_N1_TO_1: ActivationFunctionType.RELU_N1_TO_1,
  RELU6: ActivationFunctionType.RELU6,
  TANH: ActivationFunctionType.TANH,
};

const PADDINGS: Readonly<Record<Padding, FbPadding>> = { SAME: FbPadding.SAME, VALID: FbPadding.VALID };

/** Alignment of constant data, as the official schema's `force_align: 16` asks. */
const DATA_ALIGN = 16;

/** A tensor as it will be written. */
interface OutTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: TensorType.FLOAT32 | TensorType.INT32;
  /** Little-endian bytes of the constant, or null for activations. */
  readonly data: Uint8Array | null;
}

function float32Bytes(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return out;
}

function int32Bytes(data: readonly number[]): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setInt32(4 * i, v, true));
  return out;
}

/** The shape-like int32 operand an op needs in the file (the IR holds it as an attribute), or null. */
function shapeOperand(op: Op, inputRank: number): { suffix: string; shape: number[]; values: number[] } | null {
  switch (op.type) {
    case 'PAD':
      return { suffix: 'paddings', shape: [inputRank, 2], values: op.paddings.flatMap(([a, b]) => [a, b]) };
    case 'RESHAPE':
      return { suffix: 'shape', shape: [op.newShape.length], values: [...op.newShape] };
    case 'RESIZE_BILINEAR':
      return { suffix: 'size', shape: [2], values: [op.size[0], op.size[1]] };
    default:
      return null;
  }
}

/** Serialize `graph` as a float32 TFLite model. Throws TfliteWriteError when a used tensor is not float32. */
export function writeTflite(graph: Graph, options: WriteTfliteOptions = {}): Uint8Array {
  const file = graph.source.fileName;
  const fail = (message: string): never => {
    throw new TfliteWriteError('TFLITE_WRITE', `${file}: cannot write as TFLite: ${message}`, { file });
  };

  // ---- tensors: the used ones in original order, then the int32 operands ----
  const used = new Set<number>([...graph.inputs, ...graph.outputs]);
  for (const op of graph.ops) for (const i of [...op.inputs, ...op.outputs]) used.add(i);
  const order = [...used].sort((a, b) => a - b);
  const newIndex = new Map<number, number>();
  const tensors: OutTensor[] = order.map((old, k) => {
    const t = graph.tensors[old];
    if (!t) return fail(`tensor index ${old} does not exist (the graph has ${graph.tensors.length} tensors)`);
    if (t.dtype !== 'float32') fail(`tensor #${old} '${t.name}' is ${t.dtype}; only float32 tensors are written`);
    let data: Uint8Array | null = null;
    if (t.data) {
      if (!(t.data instanceof Float32Array)) fail(`tensor #${old} '${t.name}' is float32 but holds ${t.data.constructor.name} data`);
      if (t.data.length !== elementCount(t.shape)) {
        fail(`tensor #${old} '${t.name}' has ${t.data.length} values for shape [${t.shape.join(',')}] (${elementCount(t.shape)} expected)`);
      }
      data = float32Bytes(t.data);
    }
    newIndex.set(old, k);
    return { name: t.name, shape: t.shape, type: TensorType.FLOAT32, data };
  });
  const map = (old: number): number => newIndex.get(old)!;

  // Zero biases first, then the int32 operands: a re-read file lists the biases among its used tensors,
  // and this order keeps writing it again byte-identical.
  const operandOf = new Map<Op, number>();
  for (const op of graph.ops) {
    if ((op.type === 'CONV_2D' || op.type === 'DEPTHWISE_CONV_2D') && !(op.inputs.length >= 3 && op.inputs[2]! >= 0)) {
      const filter = graph.tensors[op.inputs[1]!]!;
      const channels = op.type === 'CONV_2D' ? filter.shape[0]! : filter.shape[3]!;
      operandOf.set(op, tensors.length);
      const out = graph.tensors[op.outputs[0]!]!;
      tensors.push({ name: `${out.name}/zero_bias`, shape: [channels], type: TensorType.FLOAT32, data: float32Bytes(new Float32Array(channels)) });
    }
  }
  for (const op of graph.ops) {
    const x = graph.tensors[op.inputs[0]!]!;
    const operand = shapeOperand(op, x.shape.length);
    if (!operand) continue;
    if (op.type === 'PAD' && op.paddings.length !== x.shape.length) {
      fail(`operator #${op.index} PAD has ${op.paddings.length} [before, after] pairs for the rank-${x.shape.length} input '${x.name}'`);
    }
    const out = graph.tensors[op.outputs[0]!]!;
    operandOf.set(op, tensors.length);
    tensors.push({ name: `${out.name}/${operand.suffix}`, shape: operand.shape, type: TensorType.INT32, data: int32Bytes(operand.values) });
  }

  const b = new flatbuffers.Builder(1024 + tensors.reduce((s, t) => s + (t.data?.length ?? 0) + 64, 0));

  // ---- buffers: 0 is empty, then one per constant in tensor order ----
  const bufferOf: number[] = [];
  const bufferTables: flatbuffers.Offset[] = [];
  FbBuffer.startBuffer(b);
  bufferTables.push(FbBuffer.endBuffer(b));
  for (const t of tensors) {
    if (!t.data) {
      bufferOf.push(0);
      continue;
    }
    // prep() pads so the bytes that follow end up DATA_ALIGN-aligned from the end of the buffer, and
    // finish() pads the whole buffer to its largest alignment, so they are aligned from the start too.
    b.prep(DATA_ALIGN, t.data.length);
    const vec = b.createByteVector(t.data);
    FbBuffer.startBuffer(b);
    FbBuffer.addData(b, vec);
    bufferOf.push(bufferTables.length);
    bufferTables.push(FbBuffer.endBuffer(b));
  }

  // ---- tensors ----
  const tensorTables = tensors.map((t, i) => {
    const name = b.createString(t.name);
    const shape = FbTensor.createShapeVector(b, [...t.shape]);
    FbTensor.startTensor(b);
    FbTensor.addShape(b, shape);
    FbTensor.addType(b, t.type);
    FbTensor.addBuffer(b, bufferOf[i]!);
    FbTensor.addName(b, name);
    return FbTensor.endTensor(b);
  });

  // ---- operator codes, first-use order ----
  const codeIndex = new Map<BuiltinOperator, number>();
  for (const op of graph.ops) if (!codeIndex.has(OPCODES[op.type])) codeIndex.set(OPCODES[op.type], codeIndex.size);
  const codeTables = [...codeIndex.keys()].map((code) => {
    OperatorCode.startOperatorCode(b);
    OperatorCode.addDeprecatedBuiltinCode(b, Math.min(code, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES));
    OperatorCode.addVersion(b, 1);
    OperatorCode.addBuiltinCode(b, code);
    return OperatorCode.endOperatorCode(b);
  });

  // ---- operators ----
  const opTables = graph.ops.map((op) => {
    const inputs = op.inputs.map(map);
    const operand = operandOf.get(op);
    if (operand !== undefined) {
      if (inputs.length === 3) inputs[2] = operand; // a conv whose bias slot held -1
      else inputs.push(operand);
    }
    const [optionsType, optionsOffset] = builtinOptions(b, op);
    const inVec = FbOperator.createInputsVector(b, inputs);
    const outVec = FbOperator.createOutputsVector(b, op.outputs.map(map));
    FbOperator.startOperator(b);
    FbOperator.addOpcodeIndex(b, codeIndex.get(OPCODES[op.type])!);
    FbOperator.addInputs(b, inVec);
    FbOperator.addOutputs(b, outVec);
    if (optionsType !== BuiltinOptions.NONE) {
      FbOperator.addBuiltinOptionsType(b, optionsType);
      FbOperator.addBuiltinOptions(b, optionsOffset);
    }
    return FbOperator.endOperator(b);
  });

  const sgTensors = SubGraph.createTensorsVector(b, tensorTables);
  const sgInputs = SubGraph.createInputsVector(b, graph.inputs.map(map));
  const sgOutputs = SubGraph.createOutputsVector(b, graph.outputs.map(map));
  const sgOperators = SubGraph.createOperatorsVector(b, opTables);
  const sgName = b.createString(options.subgraphName ?? 'main');
  SubGraph.startSubGraph(b);
  SubGraph.addTensors(b, sgTensors);
  SubGraph.addInputs(b, sgInputs);
  SubGraph.addOutputs(b, sgOutputs);
  SubGraph.addOperators(b, sgOperators);
  SubGraph.addName(b, sgName);
  const subgraph = SubGraph.endSubGraph(b);

  const codes = Model.createOperatorCodesVector(b, codeTables);
  const subgraphs = Model.createSubgraphsVector(b, [subgraph]);
  const description = b.createString(options.description ?? graph.description);
  const buffers = Model.createBuffersVector(b, bufferTables);
  Model.startModel(b);
  Model.addVersion(b, TFLITE_SCHEMA_VERSION);
  Model.addOperatorCodes(b, codes);
  Model.addSubgraphs(b, subgraphs);
  Model.addDescription(b, description);
  Model.addBuffers(b, buffers);
  Model.finishModelBuffer(b, Model.endModel(b));
  // asUint8Array() views the builder's (larger) buffer: copy so the result owns exactly its bytes.
  return b.asUint8Array().slice();
}

/** The BuiltinOptions table of an op (created before the Operator table, as flatbuffers requires). */
function builtinOptions(b: flatbuffers.Builder, op: Op): [BuiltinOptions, flatbuffers.Offset] {
  switch (op.type) {
    case 'CONV_2D':
      return [
        BuiltinOptions.Conv2DOptions,
        Conv2DOptions.createConv2DOptions(b, PADDINGS[op.padding], op.strideW, op.strideH, ACTIVATIONS[op.activation], op.dilationW, op.dilationH),
      ];
    case 'DEPTHWISE_CONV_2D':
      return [
        BuiltinOptions.DepthwiseConv2DOptions,
        DepthwiseConv2DOptions.createDepthwiseConv2DOptions(
          b,
          PADDINGS[op.padding],
          op.strideW,
          op.strideH,
          op.depthMultiplier,
          ACTIVATIONS[op.activation],
          op.dilationW,
          op.dilationH,
        ),
      ];
    case 'ADD':
      AddOptions.startAddOptions(b);
      AddOptions.addFusedActivationFunction(b, ACTIVATIONS[op.activation]);
      return [BuiltinOptions.AddOptions, AddOptions.endAddOptions(b)];
    case 'RELU':
      return [BuiltinOptions.NONE, 0];
    case 'PAD':
      return [BuiltinOptions.PadOptions, PadOptions.createPadOptions(b)];
    case 'MAX_POOL_2D':
      return [
        BuiltinOptions.Pool2DOptions,
        Pool2DOptions.createPool2DOptions(b, PADDINGS[op.padding], op.strideW, op.strideH, op.filterW, op.filterH, ACTIVATIONS[op.activation]),
      ];
    case 'RESHAPE': {
      const newShape = ReshapeOptions.createNewShapeVector(b, [...op.newShape]);
      return [BuiltinOptions.ReshapeOptions, ReshapeOptions.createReshapeOptions(b, newShape)];
    }
    case 'CONCATENATION':
      return [BuiltinOptions.ConcatenationOptions, ConcatenationOptions.createConcatenationOptions(b, op.axis, ACTIVATIONS[op.activation])];
    case 'RESIZE_BILINEAR':
      return [BuiltinOptions.ResizeBilinearOptions, ResizeBilinearOptions.createResizeBilinearOptions(b, op.alignCorners, op.halfPixelCenters)];
    case 'DEPTH_TO_SPACE':
      return [BuiltinOptions.DepthToSpaceOptions, DepthToSpaceOptions.createDepthToSpaceOptions(b, op.blockSize)];
  }
}

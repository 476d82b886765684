// The Graph IR: the one representation every consumer reads (reference runtime, emitters, inspect).
// Only src/tflite/ knows the flatbuffer; it produces this. Layout is TFLite's: NHWC activations,
// conv kernels [O,H,W,I], depthwise kernels [1,H,W,C]. Batch is dimension 0 and is declared 1 by
// the files; every consumer must accept any batch N >= 1.
import { GraphShapeError } from '../errors.js';

export type DType = 'float32' | 'float16' | 'int32' | 'int64' | 'int8' | 'uint8' | 'bool';

export interface Tensor {
  /** Index of the tensor in the source subgraph (stable, used in messages and in `inspect`). */
  readonly index: number;
  readonly name: string;
  /** Shape as declared by the file, batch included (e.g. [1,128,128,3]). */
  readonly shape: readonly number[];
  /** Element type as seen by consumers (folded constants are 'float32'). */
  readonly dtype: DType;
  /** Element type stored in the file (e.g. 'float16' for weights behind DEQUANTIZE). */
  readonly sourceDtype: DType;
  /** Buffer index in the source file (0 = no data). */
  readonly buffer: number;
  /** Constant data, row-major in `shape` order; float constants are always Float32Array after folding. */
  readonly data?: Float32Array | Int32Array;
  /** True when the data was produced at load by folding DEQUANTIZE/DENSIFY. */
  readonly folded?: boolean;
}

export type Activation = 'NONE' | 'RELU' | 'RELU6' | 'RELU_N1_TO_1' | 'TANH';
export type Padding = 'SAME' | 'VALID';

interface OpBase {
  /** Index of the operator in the source subgraph. */
  readonly index: number;
  /** Tensor indices of the data inputs (activations, weights, bias). Shape-like int operands are lifted into attributes. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

/** inputs: [x, filter [O,KH,KW,I], bias [O]?] */
export interface Conv2DOp extends OpBase {
  readonly type: 'CONV_2D';
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly activation: Activation;
}

/** inputs: [x, filter [1,KH,KW,C*M], bias [C*M]?] */
export interface DepthwiseConv2DOp extends OpBase {
  readonly type: 'DEPTHWISE_CONV_2D';
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly depthMultiplier: number;
  readonly activation: Activation;
}

/** inputs: [a, b] (same shape in these models; broadcasting follows numpy rules). */
export interface AddOp extends OpBase {
  readonly type: 'ADD';
  readonly activation: Activation;
}

export interface ReluOp extends OpBase {
  readonly type: 'RELU';
}

/** inputs: [x]; paddings lifted from the constant operand: one [before, after] pair per dimension. */
export interface PadOp extends OpBase {
  readonly type: 'PAD';
  readonly paddings: readonly (readonly [number, number])[];
}

export interface MaxPool2DOp extends OpBase {
  readonly type: 'MAX_POOL_2D';
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly activation: Activation;
}

/** inputs: [x]; newShape from the constant operand or the options; dimension 0 is the batch (treat as N). */
export interface ReshapeOp extends OpBase {
  readonly type: 'RESHAPE';
  readonly newShape: readonly number[];
}

export interface ConcatenationOp extends OpBase {
  readonly type: 'CONCATENATION';
  /** Non-negative axis in NHWC terms. */
  readonly axis: number;
  readonly activation: Activation;
}

/** inputs: [x]; size lifted from the constant operand. */
export interface ResizeBilinearOp extends OpBase {
  readonly type: 'RESIZE_BILINEAR';
  readonly size: readonly [number, number];
  readonly alignCorners: boolean;
  readonly halfPixelCenters: boolean;
}

export interface DepthToSpaceOp extends OpBase {
  readonly type: 'DEPTH_TO_SPACE';
  readonly blockSize: number;
}

export type Op =
  | Conv2DOp
  | DepthwiseConv2DOp
  | AddOp
  | ReluOp
  | PadOp
  | MaxPool2DOp
  | ReshapeOp
  | ConcatenationOp
  | ResizeBilinearOp
  | DepthToSpaceOp;

export type OpType = Op['type'];

/** An operator evaluated at load time (DEQUANTIZE, DENSIFY); kept for `inspect`. */
export interface FoldedOp {
  readonly index: number;
  readonly type: 'DEQUANTIZE' | 'DENSIFY';
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

export interface GraphSource {
  /** Base name of the file the graph was read from. */
  readonly fileName: string;
  readonly sha256: string;
  readonly byteLength: number;
}

export interface Graph {
  readonly source: GraphSource;
  /** Model.description from the file. */
  readonly description: string;
  /** Model.version (the schema version, 3 for current files). */
  readonly schemaVersion: number;
  /** All tensors of the subgraph, indexed by `Tensor.index`. */
  readonly tensors: readonly Tensor[];
  /** Runtime ops in execution order (folded ops removed). */
  readonly ops: readonly Op[];
  readonly foldedOps: readonly FoldedOp[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

/** The two SSD outputs, identified by shape: regressors [1,A,16], classificators [1,A,1]. */
export function detectorOutputs(graph: Graph): { regressors: Tensor; classificators: Tensor } {
  const outs = graph.outputs.map((i) => graph.tensors[i]!);
  const regressors = outs.find((t) => t.shape.length === 3 && t.shape[2]! > 1);
  const classificators = outs.find((t) => t.shape.length === 3 && t.shape[2] === 1);
  if (outs.length !== 2 || !regressors || !classificators) {
    throw new GraphShapeError(
      'GRAPH_IO',
      `${graph.source.fileName}: expected two outputs [1,A,C>1] and [1,A,1], got ${outs
        .map((t) => `${t.name} [${t.shape.join(',')}]`)
        .join(', ')}`,
      { file: graph.source.fileName },
    );
  }
  return { regressors, classificators };
}

/** The single NHWC image input. */
export function imageInput(graph: Graph): Tensor {
  if (graph.inputs.length !== 1) {
    throw new GraphShapeError('GRAPH_IO', `${graph.source.fileName}: expected one input, got ${graph.inputs.length}`, { file: graph.source.fileName });
  }
  return graph.tensors[graph.inputs[0]!]!;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

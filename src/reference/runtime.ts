// The float64 oracle: interprets the Graph IR op by op with TFLite's semantics (NHWC, SAME padding
// with the odd pixel bottom/right, fused activations). Independent of every emitter: it reads only
// the IR and its own kernels (./kernels), so agreement with it is evidence, not an echo.
import type { RawOutputs } from '../backends/backend.js';
import { checkImageBatch, type ImageBatch } from '../ir/batch.js';
import { ToolkitError, UnsupportedOpError } from '../errors.js';
import { detectorOutputs, elementCount, imageInput, type Graph, type Op, type Tensor } from '../ir/graph.js';
import { validateGraph } from '../ir/validate.js';
import { conv2d, depthwiseConv2d, prepareConvFilter, type ConvFilter } from './kernels/conv.js';
import { add, relu } from './kernels/elementwise.js';
import { concatenation, depthToSpace, pad, reshape } from './kernels/layout.js';
import { maxPool2d } from './kernels/pool.js';
import { resizeBilinear } from './kernels/resize.js';
import { applyActivation, ReferenceShapeError, type F64Tensor } from './tensor.js';

export type { F64Tensor } from './tensor.js';
export { ReferenceShapeError } from './tensor.js';

/** Weights converted once per graph: constants as float64, conv filters re-laid out. */
interface Prepared {
  readonly constants: Map<number, F64Tensor>;
  readonly convFilters: Map<number, ConvFilter>;
}

const preparedCache = new WeakMap<Graph, Prepared>();

function prepared(graph: Graph): Prepared {
  let p = preparedCache.get(graph);
  if (!p) {
    p = { constants: new Map(), convFilters: new Map() };
    preparedCache.set(graph, p);
  }
  return p;
}

function tensorLabel(graph: Graph, t: Tensor): string {
  return `${graph.source.fileName}: tensor #${t.index} '${t.name}'`;
}

function constant(graph: Graph, index: number): F64Tensor {
  const p = prepared(graph);
  let c = p.constants.get(index);
  if (!c) {
    const t = graph.tensors[index];
    if (!t?.data) throw new ReferenceShapeError(`${graph.source.fileName}: tensor #${index} has no constant data`);
    c = { shape: [...t.shape], data: Float64Array.from(t.data) };
    p.constants.set(index, c);
  }
  return c;
}

class Env {
  readonly values = new Map<number, F64Tensor>();
  constructor(
    readonly graph: Graph,
    readonly batch: number,
  ) {}

  get(index: number, op: Op): F64Tensor {
    const v = this.values.get(index);
    if (v) return v;
    const t = this.graph.tensors[index];
    if (t?.data) return constant(this.graph, index);
    throw new ToolkitError(
      'GRAPH_TENSOR', // unreachable after validateGraph (same condition, same code)
      `${this.graph.source.fileName}: op #${op.index} ${op.type} reads tensor #${index}${t ? ` '${t.name}'` : ''}, which no earlier op produced`,
      { file: this.graph.source.fileName },
    );
  }

  /** Optional operand (bias): absent, or index -1. */
  optional(op: Op, slot: number): Float64Array | null {
    const index = op.inputs[slot];
    return index === undefined || index < 0 ? null : this.get(index, op).data;
  }
}

type Kernel<T extends Op> = (env: Env, op: T) => F64Tensor;
type KernelTable = { [K in Op['type']]: Kernel<Extract<Op, { type: K }>> };

// One kernel per IR op: adding an op means one entry here (the compiler enforces completeness).
const KERNELS: KernelTable = {
  CONV_2D: (env, op) => {
    const p = prepared(env.graph);
    let filter = p.convFilters.get(op.index);
    if (!filter) {
      const w = env.graph.tensors[op.inputs[1]!]!;
      filter = prepareConvFilter(env.get(w.index, op).data, w.shape);
      p.convFilters.set(op.index, filter);
    }
    return conv2d(env.get(op.inputs[0]!, op), filter, env.optional(op, 2), op);
  },
  DEPTHWISE_CONV_2D: (env, op) => {
    const w = env.graph.tensors[op.inputs[1]!]!;
    return depthwiseConv2d(env.get(op.inputs[0]!, op), env.get(w.index, op).data, w.shape, env.optional(op, 2), op.depthMultiplier, op);
  },
  ADD: (env, op) => add(env.get(op.inputs[0]!, op), env.get(op.inputs[1]!, op), op.activation),
  RELU: (env, op) => relu(env.get(op.inputs[0]!, op)),
  PAD: (env, op) => pad(env.get(op.inputs[0]!, op), op.paddings),
  MAX_POOL_2D: (env, op) => maxPool2d(env.get(op.inputs[0]!, op), op),
  RESHAPE: (env, op) => reshape(env.get(op.inputs[0]!, op), op.newShape, env.batch),
  CONCATENATION: (env, op) => {
    const out = concatenation(
      op.inputs.map((i) => env.get(i, op)),
      op.axis,
    );
    applyActivation(out.data, op.activation); // the output is a fresh array
    return out;
  },
  RESIZE_BILINEAR: (env, op) => resizeBilinear(env.get(op.inputs[0]!, op), op.size, op.alignCorners, op.halfPixelCenters),
  DEPTH_TO_SPACE: (env, op) => depthToSpace(env.get(op.inputs[0]!, op), op.blockSize),
};

function runKernel(env: Env, op: Op): F64Tensor {
  const kernel = (KERNELS as Record<string, Kernel<Op> | undefined>)[op.type];
  if (!kernel) throw new UnsupportedOpError(String((op as { type: unknown }).type), op.index, env.graph.source.fileName);
  return kernel(env, op);
}

/** The computed shape must equal the declared one, with the declared batch (1) read as N. */
function checkShape(graph: Graph, op: Op, t: Tensor, got: readonly number[], batch: number): void {
  if (t.shape.length === 0) return; // shape not declared by the file
  const want = t.shape.map((d, i) => (i === 0 ? d * batch : d));
  if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
    throw new ReferenceShapeError(
      `${tensorLabel(graph, t)}: op #${op.index} ${op.type} produced [${got.join(',')}], the file declares [${t.shape.join(',')}] (batch ${batch})`,
      { file: graph.source.fileName },
    );
  }
}

/**
 * Largest activation (elements, batch included) the interpreter allocates: 2^27 float64 values are 1 GiB.
 * Checked from the validated IR before anything runs, so a huge graph or batch is refused up front.
 */
export const MAX_REFERENCE_ELEMENTS = 2 ** 27;

function checkMemoryBound(graph: Graph, shapes: ReadonlyMap<number, readonly number[]>, n: number): void {
  for (const op of graph.ops) {
    const t = graph.tensors[op.outputs[0]!]!;
    const elements = elementCount(shapes.get(t.index) ?? t.shape) * n;
    if (elements > MAX_REFERENCE_ELEMENTS) {
      throw new ToolkitError(
        'REFERENCE_TOO_LARGE',
        `${tensorLabel(graph, t)}: op #${op.index} ${op.type} would produce ${elements} float64 values for a batch of ${n} (shape [${(shapes.get(t.index) ?? t.shape).join(',')}] per image), more than the ${MAX_REFERENCE_ELEMENTS} the reference runtime allocates per tensor; run a smaller batch`,
        { file: graph.source.fileName },
      );
    }
  }
}

function execute(graph: Graph, batch: ImageBatch, keepAll: boolean): Map<number, F64Tensor> {
  // Operand shapes are checked once per graph (typed GraphShapeError naming the op) before any kernel runs.
  const shapes = validateGraph(graph);
  const n = checkImageBatch(graph, batch, graph.source.fileName);
  checkMemoryBound(graph, shapes, n);
  const input = imageInput(graph);
  const env = new Env(graph, n);
  env.values.set(input.index, { shape: [...batch.shape], data: Float64Array.from(batch.data) });
  // Without keepAll, an activation is dropped after its last reader (a batch of 4 at 192x192 would
  // otherwise hold every intermediate, hundreds of MB in float64).
  const lastUse = new Map<number, number>();
  if (!keepAll) graph.ops.forEach((op, k) => op.inputs.forEach((i) => lastUse.set(i, k)));
  const keep = new Set(graph.outputs);
  graph.ops.forEach((op, k) => {
    const outIndex = op.outputs[0]!;
    const t = graph.tensors[outIndex];
    if (!t) throw new ReferenceShapeError(`${graph.source.fileName}: op #${op.index} ${op.type} writes unknown tensor #${outIndex}`);
    let out: F64Tensor;
    try {
      out = runKernel(env, op);
    } catch (err) {
      // A declared shape too large to allocate (typed-array length or memory): say which op and tensor.
      if (!(err instanceof RangeError)) throw err;
      throw new ReferenceShapeError(`${tensorLabel(graph, t)}: op #${op.index} ${op.type} cannot allocate its output (declared [${t.shape.join(',')}], batch ${n}): ${err.message}`, {
        file: graph.source.fileName,
        cause: err,
      });
    }
    checkShape(graph, op, t, out.shape, n);
    env.values.set(outIndex, out);
    if (!keepAll) {
      for (const i of op.inputs) if (lastUse.get(i) === k && !keep.has(i)) env.values.delete(i);
    }
  });
  return env.values;
}

/** Every tensor the graph computes (input included), keyed by tensor index; for debugging and layer-wise parity. */
export function runReferenceTensors(graph: Graph, batch: ImageBatch): Map<number, F64Tensor> {
  return execute(graph, batch, true);
}

/** Run the graph in float64: regressors [N, A, C] and classificators [N, A, 1] as Float64Array. */
export function runReference(graph: Graph, batch: ImageBatch): RawOutputs {
  const { regressors, classificators } = detectorOutputs(graph);
  const values = execute(graph, batch, false);
  const reg = values.get(regressors.index);
  const cls = values.get(classificators.index);
  if (!reg || !cls) {
    throw new ToolkitError('GRAPH_TENSOR', `${graph.source.fileName}: no op produced the model outputs`, {
      file: graph.source.fileName,
    });
  }
  return {
    regressors: reg.data,
    classificators: cls.data,
    batch: reg.shape[0]!,
    numAnchors: reg.shape[1]!,
    numCoords: reg.shape[2]!,
  };
}

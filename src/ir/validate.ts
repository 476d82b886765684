// Shape inference over the Graph IR: every op's operands must fit before anything runs or is emitted.
// Starting from the graph input and the constants (declared shapes, batch 1), each op's output shape is
// derived from its inputs with TFLite's rules (numpy broadcasting, SAME/VALID windows, concat axes,
// reshape element counts, ...) and must equal the shape the file declares. A graph that passes has
// consistent shapes everywhere, so consumers can size buffers from the declared shapes; one that fails
// gets a GraphShapeError naming the op index, op type and tensors, instead of a runtime failing later
// (or allocating gigabytes first).
import { GraphShapeError, UnsupportedOpError } from '../errors.js';
import { elementCount, type Graph, type Op, type OpType, type Padding, type Tensor } from './graph.js';

/**
 * Largest tensor (elements) a graph may declare, batch 1. The BlazeFace models stay below 400k; a
 * tensor of 2^26 float64 values is already 512 MiB in the reference runtime.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 26;

const validated = new WeakMap<Graph, ReadonlyMap<number, readonly number[]>>();

function describe(t: Tensor | undefined, index: number, shape?: readonly number[]): string {
  return `#${index} '${t?.name ?? '?'}' [${(shape ?? t?.shape ?? []).join(',')}]`;
}

/** Output size of a windowed op along one axis, as TFLite computes it (kernels/padding.h). */
function windowOut(inSize: number, kernel: number, stride: number, dilation: number, padding: Padding): number {
  if (padding === 'SAME') return Math.ceil(inSize / stride);
  return Math.floor((inSize - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** numpy broadcast of two shapes, or null when they do not broadcast. */
function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

const KNOWN_OPS: ReadonlySet<string> = new Set<OpType>([
  'CONV_2D',
  'DEPTHWISE_CONV_2D',
  'ADD',
  'RELU',
  'PAD',
  'MAX_POOL_2D',
  'RESHAPE',
  'CONCATENATION',
  'RESIZE_BILINEAR',
  'DEPTH_TO_SPACE',
]);

const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1;

/**
 * Check every op of `graph` (cached per graph object). Throws GraphShapeError: GRAPH_TENSOR for a
 * reference to a tensor that does not exist or is read before any op produces it, GRAPH_SHAPE for
 * operands that do not fit or an output that differs from its declared shape, GRAPH_TOO_LARGE for a
 * tensor above MAX_TENSOR_ELEMENTS. Returns every tensor's shape (batch 1), keyed by tensor index.
 */
export function validateGraph(graph: Graph): ReadonlyMap<number, readonly number[]> {
  const done = validated.get(graph);
  if (done) return done;
  const file = graph.source.fileName;
  const shapes = new Map<number, readonly number[]>();
  const tensorAt = (index: number): Tensor | undefined => (Number.isInteger(index) && index >= 0 ? graph.tensors[index] : undefined);

  const checkSize = (t: Tensor, shape: readonly number[], where: string): void => {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new GraphShapeError('GRAPH_SHAPE', `${file}: ${where}: tensor ${describe(t, t.index, shape)} has a dimension that is not a non-negative integer`, {
        file,
        tensors: [describe(t, t.index, shape)],
      });
    }
    if (elementCount(shape) > MAX_TENSOR_ELEMENTS) {
      throw new GraphShapeError(
        'GRAPH_TOO_LARGE',
        `${file}: ${where}: tensor ${describe(t, t.index, shape)} has ${elementCount(shape)} elements, more than the ${MAX_TENSOR_ELEMENTS} allowed per tensor`,
        { file, tensors: [describe(t, t.index, shape)] },
      );
    }
  };

  for (const index of graph.inputs) {
    const t = tensorAt(index);
    if (!t) throw new GraphShapeError('GRAPH_TENSOR', `${file}: graph input refers to tensor #${index}, which does not exist`, { file });
    checkSize(t, t.shape, 'graph input');
    shapes.set(index, t.shape);
  }
  for (const t of graph.tensors) {
    if (t.data) {
      checkSize(t, t.shape, 'constant');
      shapes.set(t.index, t.shape);
    }
  }

  for (const op of graph.ops) {
    if (!KNOWN_OPS.has(op.type)) throw new UnsupportedOpError(String(op.type), op.index, file);
    const label = `op #${op.index} ${op.type}`;
    const operands = op.inputs.map((index, slot) => {
      // An optional operand (bias) may be absent: -1.
      if (index === -1 && slot === 2 && (op.type === 'CONV_2D' || op.type === 'DEPTHWISE_CONV_2D')) return null;
      const t = tensorAt(index);
      const shape = shapes.get(index);
      if (!t || !shape) {
        throw new GraphShapeError(
          'GRAPH_TENSOR',
          `${file}: ${label} reads tensor #${index}${t ? ` '${t.name}'` : ''}, which ${t ? 'no earlier op produces and is not constant' : 'does not exist'}`,
          { file, opIndex: op.index, opType: op.type, tensors: [t ? describe(t, index) : `#${index}`] },
        );
      }
      return { t, shape };
    });
    const inputs = operands.filter((o): o is { t: Tensor; shape: readonly number[] } => o !== null);
    const named = inputs.map(({ t, shape }) => describe(t, t.index, shape));
    const fail = (what: string): never => {
      throw new GraphShapeError('GRAPH_SHAPE', `${file}: ${label} (inputs ${named.join(', ')}): ${what}`, {
        file,
        opIndex: op.index,
        opType: op.type,
        tensors: named,
      });
    };
    const outIndex = op.outputs[0];
    const out = outIndex === undefined ? undefined : tensorAt(outIndex);
    if (op.outputs.length !== 1 || !out) fail(`expected one output tensor, got [${op.outputs.join(',')}]`);
    const outShape = inferOutput(op, inputs, fail);
    if (out!.shape.length > 0 && out!.shape.join(',') !== outShape.join(',')) {
      fail(`computes [${outShape.join(',')}], but output ${describe(out, out!.index)} is declared [${out!.shape.join(',')}]`);
    }
    checkSize(out!, outShape, label);
    shapes.set(out!.index, outShape);
  }

  for (const index of graph.outputs) {
    const t = tensorAt(index);
    if (!t || !shapes.has(index)) {
      throw new GraphShapeError('GRAPH_TENSOR', `${file}: graph output #${index}${t ? ` '${t.name}'` : ''} is produced by no op`, { file });
    }
  }
  validated.set(graph, shapes);
  return shapes;
}

type Operand = { readonly t: Tensor; readonly shape: readonly number[] };

function inferOutput(op: Op, inputs: readonly Operand[], fail: (what: string) => never): number[] {
  const arity = (min: number, max = min): void => {
    if (inputs.length < min || inputs.length > max) fail(`takes ${min === max ? min : `${min} to ${max}`} inputs, got ${inputs.length}`);
  };
  const rank4 = (o: Operand, what: string): [number, number, number, number] => {
    if (o.shape.length !== 4) fail(`${what} must be rank 4 (NHWC), got [${o.shape.join(',')}]`);
    return o.shape as [number, number, number, number];
  };
  const windowed = (h: number, w: number, kh: number, kw: number, p: { strideH: number; strideW: number; dilationH: number; dilationW: number; padding: Padding }): [number, number] => {
    for (const [name, v] of [['stride_h', p.strideH], ['stride_w', p.strideW], ['dilation_h', p.dilationH], ['dilation_w', p.dilationW], ['kernel height', kh], ['kernel width', kw]] as const) {
      if (!positiveInt(v)) fail(`${name} is ${v}, expected a positive integer`);
    }
    const oh = windowOut(h, kh, p.strideH, p.dilationH, p.padding);
    const ow = windowOut(w, kw, p.strideW, p.dilationW, p.padding);
    if (oh < 1 || ow < 1) fail(`a ${p.padding} window of ${kh}x${kw} (dilation ${p.dilationH}x${p.dilationW}) does not fit the ${h}x${w} input`);
    return [oh, ow];
  };

  switch (op.type) {
    case 'CONV_2D': {
      arity(2, 3);
      const [n, h, w, c] = rank4(inputs[0]!, 'input');
      const [o, kh, kw, i] = rank4(inputs[1]!, 'filter [O,KH,KW,I]');
      if (i !== c) fail(`the filter expects ${i} input channels, the input has ${c}`);
      if (inputs[2] && inputs[2].shape.join(',') !== String(o)) fail(`bias must be [${o}], got [${inputs[2].shape.join(',')}]`);
      const [oh, ow] = windowed(h, w, kh, kw, op);
      return [n, oh, ow, o];
    }
    case 'DEPTHWISE_CONV_2D': {
      arity(2, 3);
      const [n, h, w, c] = rank4(inputs[0]!, 'input');
      const [one, kh, kw, cm] = rank4(inputs[1]!, 'filter [1,KH,KW,C*M]');
      if (one !== 1) fail(`filter dimension 0 must be 1, got ${one}`);
      if (!positiveInt(op.depthMultiplier) || c * op.depthMultiplier !== cm) {
        fail(`the filter has ${cm} channels, expected input channels ${c} x depth multiplier ${op.depthMultiplier}`);
      }
      if (inputs[2] && inputs[2].shape.join(',') !== String(cm)) fail(`bias must be [${cm}], got [${inputs[2].shape.join(',')}]`);
      const [oh, ow] = windowed(h, w, kh, kw, op);
      return [n, oh, ow, cm];
    }
    case 'ADD': {
      arity(2);
      const out = broadcast(inputs[0]!.shape, inputs[1]!.shape);
      if (!out) fail(`shapes [${inputs[0]!.shape.join(',')}] and [${inputs[1]!.shape.join(',')}] do not broadcast`);
      return out!;
    }
    case 'RELU':
      arity(1);
      return [...inputs[0]!.shape];
    case 'PAD': {
      arity(1);
      const x = inputs[0]!.shape;
      if (op.paddings.length !== x.length) fail(`${op.paddings.length} [before, after] pairs for a rank-${x.length} input`);
      op.paddings.forEach(([b, a], d) => {
        if (!Number.isInteger(b) || !Number.isInteger(a) || b < 0 || a < 0) fail(`padding of dimension ${d} is [${b},${a}], expected non-negative integers`);
      });
      if (op.paddings[0] && (op.paddings[0][0] !== 0 || op.paddings[0][1] !== 0)) fail(`pads the batch dimension by [${op.paddings[0].join(',')}]; only [0,0] keeps any batch N`);
      return x.map((d, k) => d + op.paddings[k]![0] + op.paddings[k]![1]);
    }
    case 'MAX_POOL_2D': {
      arity(1);
      const [n, h, w, c] = rank4(inputs[0]!, 'input');
      const [oh, ow] = windowed(h, w, op.filterH, op.filterW, { ...op, dilationH: 1, dilationW: 1 });
      return [n, oh, ow, c];
    }
    case 'RESHAPE': {
      arity(1);
      const count = elementCount(inputs[0]!.shape);
      const shape = [...op.newShape];
      const unknown = shape.filter((d) => d === -1).length;
      if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) fail(`new shape [${op.newShape.join(',')}] has invalid dimensions`);
      if (unknown === 1) {
        const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
        if (known === 0 || count % known !== 0) fail(`cannot infer -1 in [${op.newShape.join(',')}] for ${count} elements`);
        shape[shape.indexOf(-1)] = count / known;
      }
      if (elementCount(shape) !== count) fail(`new shape [${op.newShape.join(',')}] holds ${elementCount(shape)} elements, the input ${count}`);
      if (shape[0] !== inputs[0]!.shape[0]) fail(`changes the batch dimension from ${inputs[0]!.shape[0]} to ${shape[0]}; every consumer treats dimension 0 as the batch N`);
      return shape;
    }
    case 'CONCATENATION': {
      arity(1, Number.MAX_SAFE_INTEGER);
      const first = inputs[0]!.shape;
      if (!Number.isInteger(op.axis) || op.axis < 0 || op.axis >= first.length) fail(`axis ${op.axis} is out of range for rank ${first.length}`);
      if (op.axis === 0) fail('concatenates along the batch dimension; every consumer treats dimension 0 as the batch N');
      for (const o of inputs) {
        if (o.shape.length !== first.length || o.shape.some((d, i) => i !== op.axis && d !== first[i])) {
          fail(`input [${o.shape.join(',')}] does not match [${first.join(',')}] outside axis ${op.axis}`);
        }
      }
      const out = [...first];
      out[op.axis] = inputs.reduce((a, o) => a + o.shape[op.axis]!, 0);
      return out;
    }
    case 'RESIZE_BILINEAR': {
      arity(1);
      const [n, , , c] = rank4(inputs[0]!, 'input');
      if (op.size.length !== 2 || !op.size.every(positiveInt)) fail(`size [${op.size.join(',')}] must be two positive integers`);
      return [n, op.size[0], op.size[1], c];
    }
    case 'DEPTH_TO_SPACE': {
      arity(1);
      const [n, h, w, c] = rank4(inputs[0]!, 'input');
      const bs = op.blockSize;
      if (!positiveInt(bs) || c % (bs * bs) !== 0) fail(`${c} channels are not divisible by block_size^2 (block_size ${bs})`);
      return [n, h * bs, w * bs, c / (bs * bs)];
    }
    default: {
      const never: never = op;
      return fail(`unknown op type ${String((never as { type: unknown }).type)}`);
    }
  }
}

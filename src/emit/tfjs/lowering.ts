// The one table from IR op to tfjs GraphDef nodes (op names and attrs as tfjs-converter's op mappers
// read them). tfjs is NHWC like TFLite, so activations need no transposes; only kernels change
// layout: conv [O,H,W,I] -> HWIO, depthwise [1,H,W,C*M] -> [H,W,C,M] (same memory order).
// TF's SAME padding puts the odd pixel bottom/right exactly as TFLite does, so it maps directly.
import { ToolkitError, UnsupportedOpError } from '../../errors.js';
import type { Activation, Op, OpType, Tensor } from '../../ir/graph.js';
import type { TfjsGraphBuilder } from './builder.js';
import { samePadding } from '../onnx/lowerings.js';
import { attr, type AttrValue } from './graph-def.js';

type OpOf<K extends OpType> = Extract<Op, { type: K }>;
/** Lower one op; returns the name of the node whose output 0 is the op's (single) output. */
type Lowering<K extends OpType> = (op: OpOf<K>, b: TfjsGraphBuilder) => string;

const T_FLOAT = { T: attr.type('DT_FLOAT') };
const nodeName = (op: Op, tfOp: string): string => `op${op.index}/${tfOp}`;

function fail(b: TfjsGraphBuilder, op: Op, why: string): never {
  throw new ToolkitError('TFJS_EMIT', `${b.graph.source.fileName}: operator #${op.index} ${op.type}: ${why}`, { file: b.graph.source.fileName });
}

/** Activations tfjs can fuse into _FusedConv2D / FusedDepthwiseConv2dNative after BiasAdd. */
const FUSABLE: Partial<Record<Activation, string>> = { RELU: 'Relu', RELU6: 'Relu6' };

/** A fused activation as separate node(s) after `x`. */
function activation(op: Op, act: Activation, x: string, b: TfjsGraphBuilder): string {
  switch (act) {
    case 'NONE':
      return x;
    case 'RELU':
      return b.node(nodeName(op, 'Relu'), 'Relu', [x], { ...T_FLOAT });
    case 'RELU6':
      return b.node(nodeName(op, 'Relu6'), 'Relu6', [x], { ...T_FLOAT });
    case 'TANH':
      return b.node(nodeName(op, 'Tanh'), 'Tanh', [x], { ...T_FLOAT });
    case 'RELU_N1_TO_1': {
      const lo = b.constant(`op${op.index}/clip_min`, 'float32', [], Float32Array.of(-1));
      const hi = b.constant(`op${op.index}/clip_max`, 'float32', [], Float32Array.of(1));
      return b.node(nodeName(op, 'ClipByValue'), 'ClipByValue', [x, lo, hi], { ...T_FLOAT });
    }
  }
}

function hwio(t: Tensor): { shape: number[]; data: Float32Array } {
  const [o, h, w, i] = t.shape as [number, number, number, number];
  const src = t.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let oo = 0; oo < o; oo++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ii = 0; ii < i; ii++) dst[((y * w + x) * i + ii) * o + oo] = src[((oo * h + y) * w + x) * i + ii]!;
  return { shape: [h, w, i, o], data: dst };
}

interface ConvLike {
  readonly padding: string;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly activation: Activation;
}

/** Conv2D / DepthwiseConv2dNative, fused with the bias (and Relu/Relu6) when there is a bias. */
function convNodes(op: Op & ConvLike, b: TfjsGraphBuilder, plainOp: string, fusedOp: string, filter: string): string {
  const fold = b.padFolds.get(op.index);
  const x = b.value(fold ? fold.input : op.inputs[0]!);
  const common: Record<string, AttrValue> = {
    ...T_FLOAT,
    strides: attr.ints([1, op.strideH, op.strideW, 1]),
    padding: attr.str(op.padding),
    dilations: attr.ints([1, op.dilationH, op.dilationW, 1]),
    data_format: attr.str('NHWC'),
  };
  if (fold) {
    // TFLite's SAME on the padded size, plus the folded PAD: TF's EXPLICIT padding, [before, after] per NHWC axis.
    const src = b.tensor(fold.input).shape;
    const filterShape = b.tensor(op.inputs[1]!).shape;
    const [h, w] = [src[1]! + fold.pads[0] + fold.pads[2], src[2]! + fold.pads[1] + fold.pads[3]];
    const [top, bottom] = op.padding === 'SAME' ? samePadding(h, filterShape[1]!, op.strideH, op.dilationH) : [0, 0];
    const [left, right] = op.padding === 'SAME' ? samePadding(w, filterShape[2]!, op.strideW, op.dilationW) : [0, 0];
    common.padding = attr.str('EXPLICIT');
    common.explicit_paddings = attr.ints([0, 0, top + fold.pads[0], bottom + fold.pads[2], left + fold.pads[1], right + fold.pads[3], 0, 0]);
  }
  const biasIndex = op.inputs[2];
  if (biasIndex === undefined || biasIndex < 0) {
    return activation(op, op.activation, b.node(nodeName(op, plainOp), plainOp, [x, filter], common), b);
  }
  const bias = b.irConstant(biasIndex, 'as-is', (t) => ({ shape: t.shape, data: t.data! }));
  const fusedAct = FUSABLE[b.reluFolds.has(op.index) ? 'RELU' : op.activation];
  const fusedOps = fusedAct ? ['BiasAdd', fusedAct] : ['BiasAdd'];
  const conv = b.node(nodeName(op, fusedOp), fusedOp, [x, filter, bias], { ...common, num_args: attr.int(1), fused_ops: attr.strs(fusedOps) });
  return fusedAct ? conv : activation(op, op.activation, conv, b);
}

const LOWERINGS: { readonly [K in OpType]: Lowering<K> } = {
  CONV_2D: (op, b) => {
    const filter = b.irConstant(op.inputs[1]!, 'hwio', hwio);
    return convNodes(op, b, 'Conv2D', '_FusedConv2D', filter);
  },

  DEPTHWISE_CONV_2D: (op, b) => {
    const channels = b.tensor(op.inputs[0]!).shape[3]!;
    const filter = b.irConstant(op.inputs[1]!, 'hwcm', (t) => {
      const [one, h, w, cm] = t.shape as [number, number, number, number];
      if (one !== 1 || cm % channels !== 0) fail(b, op, `depthwise filter [${t.shape.join(',')}] does not fit ${channels} input channels`);
      // [1,H,W,C*M] and [H,W,C,M] share one memory order (channel-major, multiplier-minor).
      return { shape: [h, w, channels, cm / channels], data: t.data! };
    });
    return convNodes(op, b, 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', filter);
  },

  ADD: (op, b) => {
    const sum = b.node(nodeName(op, 'AddV2'), 'AddV2', [b.value(op.inputs[0]!), b.value(op.inputs[1]!)], { ...T_FLOAT });
    return activation(op, op.activation, sum, b);
  },

  RELU: (op, b) => activation(op, 'RELU', b.value(op.inputs[0]!), b),

  PAD: (op, b) => {
    const [n0, n1] = op.paddings[0] ?? [0, 0];
    if (n0 !== 0 || n1 !== 0) fail(b, op, 'padding the batch dimension is not supported (the batch is dynamic)');
    const paddings = b.int32(`op${op.index}/paddings`, [op.paddings.length, 2], op.paddings.flat());
    return b.node(nodeName(op, 'Pad'), 'Pad', [b.value(op.inputs[0]!), paddings], { ...T_FLOAT, Tpaddings: attr.type('DT_INT32') });
  },

  MAX_POOL_2D: (op, b) => {
    const pooled = b.node(nodeName(op, 'MaxPool'), 'MaxPool', [b.value(op.inputs[0]!)], {
      ...T_FLOAT,
      ksize: attr.ints([1, op.filterH, op.filterW, 1]),
      strides: attr.ints([1, op.strideH, op.strideW, 1]),
      padding: attr.str(op.padding),
      data_format: attr.str('NHWC'),
    });
    return activation(op, op.activation, pooled, b);
  },

  RESHAPE: (op, b) => {
    // Dimension 0 is the batch: -1 lets any N through. The rest comes from the declared output
    // shape, which is fully known even when the file's newShape used -1 for another dimension.
    const out = b.tensor(op.outputs[0]!).shape;
    const rest = out.length === op.newShape.length && out.every((d) => d > 0) ? out.slice(1) : op.newShape.slice(1);
    if (rest.some((d) => d < 0)) fail(b, op, `cannot resolve reshape target [${op.newShape.join(',')}] with a dynamic batch`);
    const shape = b.int32(`op${op.index}/shape`, [rest.length + 1], [-1, ...rest]);
    return b.node(nodeName(op, 'Reshape'), 'Reshape', [b.value(op.inputs[0]!), shape], { ...T_FLOAT, Tshape: attr.type('DT_INT32') });
  },

  CONCATENATION: (op, b) => {
    const inputs = op.inputs.map((i) => b.value(i));
    const axis = b.int32(`op${op.index}/axis`, [], [op.axis]);
    const cat = b.node(nodeName(op, 'ConcatV2'), 'ConcatV2', [...inputs, axis], { ...T_FLOAT, N: attr.int(inputs.length), Tidx: attr.type('DT_INT32') });
    return activation(op, op.activation, cat, b);
  },

  RESIZE_BILINEAR: (op, b) => {
    const size = b.int32(`op${op.index}/size`, [2], op.size);
    return b.node(nodeName(op, 'ResizeBilinear'), 'ResizeBilinear', [b.value(op.inputs[0]!), size], {
      ...T_FLOAT,
      align_corners: attr.bool(op.alignCorners),
      half_pixel_centers: attr.bool(op.halfPixelCenters),
    });
  },

  DEPTH_TO_SPACE: (op, b) =>
    b.node(nodeName(op, 'DepthToSpace'), 'DepthToSpace', [b.value(op.inputs[0]!)], {
      ...T_FLOAT,
      block_size: attr.int(op.blockSize),
      data_format: attr.str('NHWC'),
    }),
};

/** Lower one IR op into `b` and bind its output tensor to the resulting node. */
export function lowerOp(op: Op, b: TfjsGraphBuilder): void {
  const lowering = (LOWERINGS as Record<string, Lowering<OpType> | undefined>)[op.type];
  if (!lowering) throw new UnsupportedOpError(op.type, op.index, b.graph.source.fileName);
  if (op.outputs.length !== 1) fail(b, op, `expected one output, got ${op.outputs.length}`);
  b.bind(op.outputs[0]!, lowering(op as never, b));
}

// The ONNX lowering table: one entry per IR op type, each writing the op's ONNX nodes (opset 17).
// Layout (NHWC IR -> NCHW graph) is resolved by the builder: a lowering asks for its inputs in the layout
// it needs and declares the layout it produces. TFLite semantics carried over here: SAME padding with
// the odd pixel bottom/right (as explicit Conv/MaxPool pads), fused activations, kernel layouts.
import { UnsupportedOpError } from '../../errors.js';
import type { Activation, Op, OpType, Padding, Tensor } from '../../ir/graph.js';
import { nhwcAxisToNchw, OnnxEmitError, OnnxGraphBuilder, PERM_NHWC_TO_NCHW, transposeData, type Layout } from './builder.js';

/**
 * A residual ADD whose skip operand is a channel PAD of x (x carries wA channels, the sum wB > wA) and
 * whose other operand is a 1x1-or-any group-1 conv used only there, optionally followed by its RELU.
 * Lowered as Concat(act(conv[0:wA] + x), act(conv[wA:wB])) on the channel axis: the conv is split by
 * output rows (no extra multiply-adds), the first half takes x as ORT's fused NCHWc Sum input, and ORT
 * runs channel-axis Concat of block-aligned NCHWc tensors in place, so neither a Pad nor an identity
 * conv nor a layout reorder is left between blocks.
 */
export interface SplitResidual {
  readonly add: OpOf<'ADD'>;
  readonly conv: OpOf<'CONV_2D'>;
  readonly pad: OpOf<'PAD'>;
  /** A separate RELU op folded into both halves (the ADD's own fused activation is applied as well). */
  readonly relu?: OpOf<'RELU'>;
}

/** A zero spatial PAD folded into the conv that consumes it: the PAD's input and its [top, left, bottom, right]. */
export interface PadFold {
  readonly padOp: number;
  readonly input: number;
  readonly pads: readonly [number, number, number, number];
}

export interface LoweringContext {
  readonly b: OnnxGraphBuilder;
  /** conv op index -> the PAD folded into it. */
  readonly padFolds: ReadonlyMap<number, PadFold>;
  /** Performance choices (defaults: ONNX_FAST_PATH). */
  readonly options?: Partial<OnnxLoweringOptions>;
  /** ADD op index -> the split residual lowered at that ADD (its conv, PAD and RELU ops emit nothing). */
  readonly splits?: ReadonlyMap<number, SplitResidual>;
}

/** Choices that change the graph's speed, never its results (within float32 rounding of zero terms). */
export interface OnnxLoweringOptions {
  /** Carry 4-D activations at a multiple of this many channels, extra channels zero (./widths.ts); 0 = exact. */
  readonly channelAlign: number;
  /**
   * A channel PAD that grows the carried width: an identity 1x1 'conv' (stays in ORT's NCHWc) or a 'pad'
   * node; 'split' also rewrites the residual pattern conv -> ADD(PAD(x), conv) [-> RELU] so no pad exists
   * at all (see SplitResidual); PADs outside that pattern then get the 'conv' treatment.
   */
  readonly channelPad: 'conv' | 'pad' | 'split';
  /**
   * With channelPad 'conv': only when the input carries at most this many channels. The identity conv
   * costs that many multiply-adds per output element; wider inputs get a Pad node (ORT then reorders
   * around it, which costs less than a wide identity conv).
   */
  readonly channelPadConvMaxIn: number;
  /**
   * A conv on a few-channel NHWC activation that nothing else reads (the image input) reads it through a
   * Reshape to [N,1,H,W*C] instead of a Transpose to NCHW (kernel [KH,KW*C], horizontal stride x C).
   */
  readonly inputRows: boolean;
}

/** The emitted artifacts' choices, picked with npm run bench (README, Performance). */
export const ONNX_FAST_PATH: OnnxLoweringOptions = { channelAlign: 16, channelPad: 'split', channelPadConvMaxIn: 48, inputRows: true };

type OpOf<T extends OpType> = Extract<Op, { type: T }>;
type Lowering<T extends OpType> = (op: OpOf<T>, ctx: LoweringContext) => void;

/** TFLite's SAME padding along one axis: [before, after], the odd pixel after. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function spatialPads(padding: Padding, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number): [number, number, number, number] {
  if (padding === 'VALID') return [0, 0, 0, 0];
  const [top, bottom] = samePadding(h, kh, sh, dh);
  const [left, right] = samePadding(w, kw, sw, dw);
  return [top, left, bottom, right];
}

function dataInput(op: Op, k: number, b: OnnxGraphBuilder): number {
  const i = op.inputs[k];
  if (i === undefined || i < 0) throw new OnnxEmitError(`${b.file}: operator #${op.index} ${op.type} lacks input ${k}`, b.file);
  return i;
}

function optionalInput(op: Op, k: number): number | undefined {
  const i = op.inputs[k];
  return i === undefined || i < 0 ? undefined : i;
}

function constFloat(t: Tensor, op: Op, b: OnnxGraphBuilder): Float32Array {
  if (!(t.data instanceof Float32Array)) {
    throw new OnnxEmitError(`${b.file}: operator #${op.index} ${op.type}: tensor #${t.index} '${t.name}' must be a float32 constant`, b.file);
  }
  return t.data;
}

function checkSpatial(op: Op, b: OnnxGraphBuilder, outH: number, outW: number): void {
  const out = b.tensor(op.outputs[0]!);
  if (out.shape[1] !== outH || out.shape[2] !== outW) {
    throw new OnnxEmitError(
      `${b.file}: operator #${op.index} ${op.type}: ONNX output would be ${outH}x${outW}, IR tensor '${out.name}' is [${out.shape.join(',')}]`,
      b.file,
    );
  }
}

function scalarConst(b: OnnxGraphBuilder, v: number): string {
  return b.constant(`scalar:${v}`, `const_${v}`, (name) => b.addFloatInitializer(name, [], Float32Array.of(v)));
}

/**
 * Write the op's result into tensor `out` (in `layout`), applying a fused activation after it.
 * `produce` receives the name its node must write.
 */
function withActivation(b: OnnxGraphBuilder, op: Op, activation: Activation, layout: Layout, produce: (outName: string) => void): void {
  const out = op.outputs[0]!;
  if (activation === 'NONE') {
    produce(b.define(out, layout));
    return;
  }
  const pre = b.temp(`${b.tensor(out).name || `tensor_${out}`}/pre_${activation.toLowerCase()}`);
  produce(pre);
  activationNode(b, activation, pre, b.define(out, layout), `op${op.index}/${activation.toLowerCase()}`);
}

/** One node applying `activation` (not NONE) to value `pre`, writing `name`. */
function activationNode(b: OnnxGraphBuilder, activation: Exclude<Activation, 'NONE'>, pre: string, name: string, hint: string): void {
  switch (activation) {
    case 'RELU':
      b.node('Relu', [pre], [name], {}, hint);
      return;
    case 'RELU6':
      b.node('Clip', [pre, scalarConst(b, 0), scalarConst(b, 6)], [name], {}, hint);
      return;
    case 'RELU_N1_TO_1':
      b.node('Clip', [pre, scalarConst(b, -1), scalarConst(b, 1)], [name], {}, hint);
      return;
    case 'TANH':
      b.node('Tanh', [pre], [name], {}, hint);
      return;
  }
}

/**
 * Layout for an elementwise/concat op on rank-`rank` tensors: NCHW for 4-D unless every activation input
 * exists only in TFLite layout (then staying NHWC saves the Transposes).
 */
function elementwiseLayout(b: OnnxGraphBuilder, inputs: readonly number[], rank: number): Layout {
  if (rank !== 4) return 'tflite';
  const acts = inputs.filter((i) => !b.tensor(i).data);
  const allTflite = acts.length > 0 && acts.every((i) => b.has(i, 'tflite') && !b.has(i, 'nchw'));
  return allTflite ? 'tflite' : 'nchw';
}

/** An operand of a broadcasting elementwise op, in `layout`; lower-rank constants are aligned as numpy would in NHWC. */
function broadcastOperand(b: OnnxGraphBuilder, op: Op, index: number, layout: Layout, rank: number): string {
  const t = b.tensor(index);
  if (t.shape.length === rank || layout === 'tflite') return b.value(index, layout);
  if (!t.data) {
    throw new OnnxEmitError(`${b.file}: operator #${op.index} ${op.type}: rank-${t.shape.length} activation '${t.name}' broadcast against rank ${rank} is not supported`, b.file);
  }
  const data = constFloat(t, op, b);
  const nhwc = [...new Array<number>(rank - t.shape.length).fill(1), ...t.shape];
  return b.constant(`bcast-nchw:${index}`, `${t.name}/nchw`, (name) =>
    b.addFloatInitializer(name, PERM_NHWC_TO_NCHW.map((p) => nhwc[p]!), transposeData(data, nhwc, PERM_NHWC_TO_NCHW)),
  );
}

/** Output rows [lo, hi) of a group-1 conv written to `out` (no activation): one half of a SplitResidual. */
interface ConvPart {
  readonly lo: number;
  readonly hi: number;
  readonly out: string;
}

function lowerConvolution(op: OpOf<'CONV_2D'> | OpOf<'DEPTHWISE_CONV_2D'>, ctx: LoweringContext, part?: ConvPart): void {
  const { b } = ctx;
  const fold = ctx.padFolds.get(op.index);
  const xIndex = fold ? fold.input : dataInput(op, 0, b);
  const x = b.tensor(xIndex);
  const w = b.tensor(dataInput(op, 1, b));
  const wData = constFloat(w, op, b);
  const [, kh, kw] = w.shape as [number, number, number, number];
  const inC = x.shape[3]!;
  const extra = fold?.pads ?? [0, 0, 0, 0];
  // SAME is computed on the (possibly padded) input the TFLite conv saw, then the folded PAD is added on top.
  const h = x.shape[1]! + extra[0] + extra[2];
  const wIn = x.shape[2]! + extra[1] + extra[3];
  const own = spatialPads(op.padding, h, wIn, kh, kw, op.strideH, op.strideW, op.dilationH, op.dilationW);
  const pads = [own[0] + extra[0], own[1] + extra[1], own[2] + extra[2], own[3] + extra[3]];
  const outH = Math.floor((h + own[0] + own[2] - ((kh - 1) * op.dilationH + 1)) / op.strideH) + 1;
  const outWidth = Math.floor((wIn + own[1] + own[3] - ((kw - 1) * op.dilationW + 1)) / op.strideW) + 1;
  checkSpatial(op, b, outH, outWidth);

  // Widened tensors (./widths.ts) carry extra zero channels: kernels get zero rows/columns and biases
  // zeros there, so the extra output channels stay exactly zero through any fused activation.
  const inW = b.channels(xIndex);
  const outIndex = op.outputs[0]!;
  const outW = b.channels(outIndex);
  let kernelKey: string;
  let kernelDims: number[];
  let kernelData: () => Float32Array;
  let group: number;
  if (op.type === 'CONV_2D') {
    // [O,KH,KW,I] -> [O,I,KH,KW]; TFLite allows grouped conv when I divides the input channels.
    const [o, , , i] = w.shape as [number, number, number, number];
    if (inC % i !== 0) throw new OnnxEmitError(`${b.file}: operator #${op.index} CONV_2D: input channels ${inC} not a multiple of filter channels ${i}`, b.file);
    group = inC / i;
    if (group !== 1 && inW !== inC) throw new OnnxEmitError(`${b.file}: operator #${op.index} CONV_2D: grouped conv on a widened input`, b.file);
    const iW = group === 1 ? inW : i;
    kernelKey = `conv-kernel:${w.index}:${outW}x${iW}`;
    kernelDims = [outW, iW, kh, kw];
    kernelData = () => zeroExtend(transposeData(wData, w.shape, [0, 3, 1, 2]), [o, i, kh, kw], [outW, iW, kh, kw]);
  } else {
    // [1,KH,KW,C*M] -> [C*M,1,KH,KW] as a Conv with group = C: output channel c*M+m reads input channel c, as in TFLite.
    const oc = w.shape[3]!;
    if (oc !== inC * op.depthMultiplier) {
      throw new OnnxEmitError(`${b.file}: operator #${op.index} DEPTHWISE_CONV_2D: ${oc} output channels for ${inC} inputs x multiplier ${op.depthMultiplier}`, b.file);
    }
    if ((inW !== inC || outW !== oc) && (op.depthMultiplier !== 1 || inW !== outW)) {
      throw new OnnxEmitError(`${b.file}: operator #${op.index} DEPTHWISE_CONV_2D: widened channels need depth multiplier 1 and equal widths`, b.file);
    }
    group = inW;
    kernelKey = `dw-kernel:${w.index}:${outW}`;
    kernelDims = [outW, 1, kh, kw];
    kernelData = () => zeroExtend(transposeData(wData, w.shape, [3, 0, 1, 2]), [oc, 1, kh, kw], [outW, 1, kh, kw]);
  }
  const bias = optionalInput(op, 2);
  const attrs: Record<string, number | readonly number[]> = {
    kernel_shape: [kh, kw],
    strides: [op.strideH, op.strideW],
    dilations: [op.dilationH, op.dilationW],
    pads,
  };
  if (group !== 1) attrs.group = group;
  if (part) {
    // Rows [lo, hi) of the widened kernel and bias, as their own constants.
    if (group !== 1 || op.activation !== 'NONE') throw new OnnxEmitError(`${b.file}: operator #${op.index} ${op.type}: only a group-1 conv without activation can be split`, b.file);
    const { lo, hi } = part;
    const rows = (data: Float32Array, perRow: number): Float32Array => data.slice(lo * perRow, hi * perRow);
    const inputs = [
      b.value(xIndex, 'nchw'),
      b.constant(`${kernelKey}:${lo}-${hi}`, `${w.name || `tensor_${w.index}`}/ch${lo}_${hi}`, (name) =>
        b.addFloatInitializer(name, [hi - lo, ...kernelDims.slice(1)], rows(kernelData(), inW * kh * kw)),
      ),
    ];
    if (bias !== undefined) {
      const data = constFloat(b.tensor(bias), op, b);
      inputs.push(b.constant(`bias:${bias}:${outW}:${lo}-${hi}`, `${b.tensor(bias).name || `tensor_${bias}`}/ch${lo}_${hi}`, (name) => b.addFloatInitializer(name, [hi - lo], rows(zeroExtend(data, [data.length], [outW]), 1))));
    }
    b.node('Conv', inputs, [part.out], attrs, `op${op.index}/conv_${lo}_${hi}`);
    return;
  }
  const opts = { ...ONNX_FAST_PATH, ...ctx.options };
  if (opts.inputRows && group === 1 && op.dilationW === 1 && inW === inC && inC <= INPUT_ROWS_MAX_CHANNELS && onlyTfliteUse(b, op, xIndex)) {
    // NHWC [N,H,W,C] read as a one-channel image [N,1,H,W*C] (a free Reshape instead of a Transpose):
    // the same conv with kernel [KH, KW*C], horizontal stride and pads times C. TFLite's [O,KH,KW,I]
    // kernel already is [O,1,KH,KW*I] in memory.
    const [, h, wd] = x.shape as [number, number, number, number];
    const rows = b.temp(`${b.tensor(xIndex).name || `tensor_${xIndex}`}/rows`);
    const shape = [0, 1, h, wd * inC];
    const shapeName = b.constant(`shape:${shape.join(',')}`, `op${op.index}/rows_shape`, (name) => b.addInt64Initializer(name, [4], shape));
    b.node('Reshape', [b.value(xIndex, 'tflite'), shapeName], [rows], {}, `op${op.index}/rows`);
    const o = w.shape[0]!;
    const rowKernel = b.constant(`rows-kernel:${w.index}:${outW}`, w.name || `tensor_${w.index}`, (name) =>
      b.addFloatInitializer(name, [outW, 1, kh, kw * inC], zeroExtend(wData, [o, kh * kw * inC], [outW, kh * kw * inC])),
    );
    const rowInputs = [rows, rowKernel];
    if (bias !== undefined) rowInputs.push(biasInput(b, op, bias, outW));
    const rowAttrs = { kernel_shape: [kh, kw * inC], strides: [op.strideH, op.strideW * inC], dilations: [op.dilationH, 1], pads: [pads[0]!, pads[1]! * inC, pads[2]!, pads[3]! * inC] };
    withActivation(b, op, op.activation, 'nchw', (out) => b.node('Conv', rowInputs, [out], rowAttrs, `op${op.index}/conv`));
    return;
  }
  const kernel = b.constant(kernelKey, w.name || `tensor_${w.index}`, (name) => b.addFloatInitializer(name, kernelDims, kernelData()));
  const inputs = [b.value(xIndex, 'nchw'), kernel];
  if (bias !== undefined) inputs.push(biasInput(b, op, bias, outW));
  withActivation(b, op, op.activation, 'nchw', (out) => b.node('Conv', inputs, [out], attrs, `op${op.index}/conv`));
}

/** The conv's bias at `outW` channels (zero-extended when the output is widened). */
function biasInput(b: OnnxGraphBuilder, op: Op, bias: number, outW: number): string {
  const bt = b.tensor(bias);
  if (outW === bt.shape[0] || !bt.data) return b.value(bias, 'tflite');
  const data = constFloat(bt, op, b);
  return b.constant(`bias:${bias}:${outW}`, `${bt.name || `tensor_${bias}`}/w${outW}`, (name) => b.addFloatInitializer(name, [outW], zeroExtend(data, [data.length], [outW])));
}

/** The input-rows trick applies up to this many input channels (ORT reads fewer than its NCHWc block as plain NCHW). */
const INPUT_ROWS_MAX_CHANNELS = 4;

/** Tensor `x` exists only in TFLite layout and `op` is its only consumer (no NCHW copy would be shared). */
function onlyTfliteUse(b: OnnxGraphBuilder, op: Op, x: number): boolean {
  if (b.has(x, 'nchw') || !b.has(x, 'tflite') || b.graph.outputs.includes(x)) return false;
  return b.graph.ops.every((o) => o === op || !o.inputs.includes(x));
}

/** Lower a SplitResidual at its ADD: two convs (rows [0,wA) and [wA,wB)), the Sum with x, activations, Concat. */
function lowerSplitResidual(split: SplitResidual, ctx: LoweringContext): void {
  const { b } = ctx;
  const { add, conv, pad, relu } = split;
  const x = pad.inputs[0]!;
  const out = (relu ?? add).outputs[0]!;
  const [wA, wB] = [b.channels(x), b.channels(add.outputs[0]!)];
  const acts = [add.activation, relu ? 'RELU' : 'NONE'].filter((a): a is Exclude<Activation, 'NONE'> => a !== 'NONE');
  const base = b.tensor(out).name || `tensor_${out}`;
  const half = (lo: number, hi: number, skip?: string): string => {
    let v = b.temp(`${base}/ch${lo}_${hi}`);
    lowerConvolution(conv, ctx, { lo, hi, out: v });
    if (skip !== undefined) {
      const sum = b.temp(`${base}/ch${lo}_${hi}/sum`);
      b.node('Add', [v, skip], [sum], {}, `op${add.index}/add`);
      v = sum;
    }
    for (const a of acts) {
      const next = b.temp(`${v}/${a.toLowerCase()}`);
      activationNode(b, a, v, next, `op${add.index}/${a.toLowerCase()}_${lo}_${hi}`);
      v = next;
    }
    return v;
  };
  const first = half(0, wA, b.value(x, 'nchw'));
  const second = half(wA, wB);
  b.node('Concat', [first, second], [b.define(out, 'nchw')], { axis: 1 }, `op${add.index}/concat`);
}

export const LOWERINGS: { readonly [T in OpType]: Lowering<T> } = {
  CONV_2D: lowerConvolution,
  DEPTHWISE_CONV_2D: lowerConvolution,

  ADD(op, ctx) {
    const { b } = ctx;
    const split = ctx.splits?.get(op.index);
    if (split) {
      lowerSplitResidual(split, ctx);
      return;
    }
    const [a, c] = [dataInput(op, 0, b), dataInput(op, 1, b)];
    const rank = b.tensor(op.outputs[0]!).shape.length;
    const layout = elementwiseLayout(b, [a, c], rank);
    const inputs = [broadcastOperand(b, op, a, layout, rank), broadcastOperand(b, op, c, layout, rank)];
    withActivation(b, op, op.activation, layout, (out) => b.node('Add', inputs, [out], {}, `op${op.index}/add`));
  },

  RELU(op, { b }) {
    const x = dataInput(op, 0, b);
    const layout = elementwiseLayout(b, [x], b.tensor(x).shape.length);
    const input = b.value(x, layout);
    b.node('Relu', [input], [b.define(op.outputs[0]!, layout)], {}, `op${op.index}/relu`);
  },

  PAD(op, { b, options }) {
    const x = dataInput(op, 0, b);
    const out = op.outputs[0]!;
    const rank = b.tensor(x).shape.length;
    if (op.paddings.length !== rank) throw new OnnxEmitError(`${b.file}: operator #${op.index} PAD: ${op.paddings.length} padding pairs for rank ${rank}`, b.file);
    const layout: Layout = rank === 4 ? 'nchw' : 'tflite';
    // ONNX pads: all befores then all afters, in the ONNX value's own axis order. With widened
    // channels (./widths.ts) only appending is planned: the input's zero tail is already part of it.
    const paddings = op.paddings.map(([lo, hi]) => [lo, hi] as [number, number]);
    const [inW, outW] = [b.channels(x), b.channels(out)];
    if (rank === 4 && (inW !== b.tensor(x).shape[3] || outW !== b.tensor(out).shape[3])) {
      if (paddings[3]![0] !== 0 || outW < inW) throw new OnnxEmitError(`${b.file}: operator #${op.index} PAD: cannot pad ${inW} widened channels to ${outW}`, b.file);
      paddings[3] = [0, outW - inW];
    }
    const spatial = paddings.slice(0, 3).some(([lo, hi]) => lo !== 0 || hi !== 0);
    if (rank === 4 && !spatial && paddings[3]![1] === 0) {
      // Appended channels the input already carries as zeros: no node at all.
      b.alias(out, layout, b.value(x, layout));
      return;
    }
    const opts = { ...ONNX_FAST_PATH, ...options };
    if (rank === 4 && !spatial && opts.channelPad !== 'pad' && inW <= opts.channelPadConvMaxIn) {
      // A 1x1 conv with identity rows and zero rows: stays in ORT's NCHWc layout (a Pad node would
      // make ORT reorder to NCHW and back around it and around the residual ADD that follows).
      const eye = new Float32Array(outW * inW);
      for (let c = 0; c < inW; c++) eye[c * inW + c] = 1;
      const kernel = b.constant(`eye:${outW}x${inW}`, `eye_${outW}x${inW}`, (name) => b.addFloatInitializer(name, [outW, inW, 1, 1], eye));
      const input = b.value(x, 'nchw');
      b.node('Conv', [input, kernel], [b.define(out, 'nchw')], { kernel_shape: [1, 1] }, `op${op.index}/channel_pad`);
      return;
    }
    const axes = layout === 'nchw' ? PERM_NHWC_TO_NCHW : paddings.map((_, i) => i);
    const pads = [...axes.map((a) => paddings[a]![0]), ...axes.map((a) => paddings[a]![1])];
    const padsName = b.constant(`pads:${pads.join(',')}`, `op${op.index}/pads`, (name) => b.addInt64Initializer(name, [pads.length], pads));
    const input = b.value(x, layout);
    b.node('Pad', [input, padsName], [b.define(out, layout)], { mode: 'constant' }, `op${op.index}/pad`);
  },

  MAX_POOL_2D(op, { b }) {
    const x = b.tensor(dataInput(op, 0, b));
    const pads = spatialPads(op.padding, x.shape[1]!, x.shape[2]!, op.filterH, op.filterW, op.strideH, op.strideW, 1, 1);
    const outH = Math.floor((x.shape[1]! + pads[0] + pads[2] - op.filterH) / op.strideH) + 1;
    const outW = Math.floor((x.shape[2]! + pads[1] + pads[3] - op.filterW) / op.strideW) + 1;
    checkSpatial(op, b, outH, outW);
    const input = b.value(x.index, 'nchw');
    // ONNX MaxPool ignores padded cells, as TFLite's SAME max pool does.
    const attrs = { kernel_shape: [op.filterH, op.filterW], strides: [op.strideH, op.strideW], pads };
    withActivation(b, op, op.activation, 'nchw', (out) => b.node('MaxPool', [input], [out], attrs, `op${op.index}/maxpool`));
  },

  RESHAPE(op, { b }) {
    const x = b.tensor(dataInput(op, 0, b));
    const out = b.tensor(op.outputs[0]!);
    if (x.shape.length < 1 || out.shape.length < 1 || x.shape[0] !== out.shape[0]) {
      throw new OnnxEmitError(
        `${b.file}: operator #${op.index} RESHAPE [${x.shape.join(',')}] -> [${out.shape.join(',')}] does not keep the batch dimension; cannot emit it with a dynamic batch`,
        b.file,
      );
    }
    // Reshape works on TFLite's element order (NHWC for 4-D), so the input is taken in TFLite layout;
    // dimension 0 is copied from the input (0 = keep) so any batch N works without Shape ops.
    const shape = [0, ...out.shape.slice(1)];
    const shapeName = b.constant(`shape:${shape.join(',')}`, `op${op.index}/shape`, (name) => b.addInt64Initializer(name, [shape.length], shape));
    const input = b.value(x.index, 'tflite');
    b.node('Reshape', [input, shapeName], [b.define(out.index, 'tflite')], {}, `op${op.index}/reshape`);
  },

  CONCATENATION(op, { b }) {
    const rank = b.tensor(op.outputs[0]!).shape.length;
    const layout = elementwiseLayout(b, op.inputs, rank);
    const axis = layout === 'nchw' ? nhwcAxisToNchw(op.axis) : op.axis;
    const inputs = op.inputs.map((i) => b.value(i, layout));
    withActivation(b, op, op.activation, layout, (out) => b.node('Concat', inputs, [out], { axis }, `op${op.index}/concat`));
  },

  RESIZE_BILINEAR(op, { b }) {
    const x = b.tensor(dataInput(op, 0, b));
    const [inH, inW] = [x.shape[1]!, x.shape[2]!];
    const [outH, outW] = op.size;
    checkSpatial(op, b, outH, outW);
    if (op.alignCorners && op.halfPixelCenters) {
      throw new OnnxEmitError(`${b.file}: operator #${op.index} RESIZE_BILINEAR: align_corners and half_pixel_centers together are invalid in TFLite`, b.file);
    }
    // TFLite: in = (out + 0.5) * in/out - 0.5 with half_pixel_centers, clamped; ONNX 'half_pixel' is the same
    // formula for every output length ('pytorch_half_pixel' would differ at length 1).
    const mode = op.alignCorners ? 'align_corners' : op.halfPixelCenters ? 'half_pixel' : 'asymmetric';
    // 'sizes' would need the batch size; 'scales' keeps N dynamic. Each scale is the smallest float32 with
    // floor(in * scale) = out, so ONNX's output size matches exactly.
    const scales = [1, 1, scaleFor(inH, outH), scaleFor(inW, outW)];
    const scalesName = b.constant(`scales:${scales.join(',')}`, `op${op.index}/scales`, (name) => b.addFloatInitializer(name, [4], Float32Array.from(scales)));
    const input = b.value(x.index, 'nchw');
    b.node('Resize', [input, '', scalesName], [b.define(op.outputs[0]!, 'nchw')], { mode: 'linear', coordinate_transformation_mode: mode }, `op${op.index}/resize`);
  },

  DEPTH_TO_SPACE(op, { b }) {
    const x = b.tensor(dataInput(op, 0, b));
    checkSpatial(op, b, x.shape[1]! * op.blockSize, x.shape[2]! * op.blockSize);
    // TFLite reads input channel (dy * bs + dx) * C_out + c: ONNX's DCR order (depth, column, row).
    const input = b.value(x.index, 'nchw');
    b.node('DepthToSpace', [input], [b.define(op.outputs[0]!, 'nchw')], { blocksize: op.blockSize, mode: 'DCR' }, `op${op.index}/depth_to_space`);
  },
};

/** Copy a row-major array of `shape` into a zero array of the larger `target` shape (same rank). */
function zeroExtend(data: Float32Array, shape: readonly number[], target: readonly number[]): Float32Array {
  if (shape.every((d, i) => d === target[i])) return data;
  const out = new Float32Array(target.reduce((a, d) => a * d, 1));
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < data.length; i++) {
    let o = 0;
    for (let k = 0; k < rank; k++) o = o * target[k]! + idx[k]!;
    out[o] = data[i]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** The smallest float32 s >= out/in with in * s >= out (so floor gives exactly `out`). */
export function scaleFor(inSize: number, outSize: number): number {
  let s = Math.fround(outSize / inSize);
  const view = new DataView(new ArrayBuffer(4));
  while (inSize * s < outSize) {
    view.setFloat32(0, s);
    view.setUint32(0, view.getUint32(0) + 1);
    s = view.getFloat32(0);
  }
  return s;
}

/** Lower one IR op through the table. */
export function lowerOp(op: Op, ctx: LoweringContext): void {
  const lowering = LOWERINGS[op.type] as Lowering<OpType> | undefined;
  if (!lowering) throw new UnsupportedOpError(String((op as { type: unknown }).type), op.index, ctx.b.file);
  lowering(op as OpOf<OpType>, ctx);
}

// int8 post-training quantization of our own fp32 ONNX graph, in QDQ form (QuantizeLinear/DequantizeLinear
// pairs that ONNX Runtime's QDQ transformer folds into QLinearConv / QLinearAdd and int8 kernels).
// Written here on the emitter's ModelProto objects because nothing else fits: onnxruntime's quantizer is
// Python-only (and no Python onnxruntime is installed), and no npm package quantizes ONNX graphs.
//
// What gets quantized (every choice measured with npm run bench and the verifier's detection verdict):
// - activations: uint8, one scale/zero point per tensor, from the calibrated [min, max] (./calibrate.ts)
//   widened to include 0 (so zero padding and zero channels are exact and a Relu's range starts at the
//   zero point, which lets ORT drop the Relu into the QuantizeLinear);
// - Conv weights: int8, symmetric, one scale per output channel; Conv bias: int32 with scale
//   in_scale * w_scale[m] (ORT's QDQ Conv selector requires exactly that);
// - an activation gets a Q/DQ pair when a Conv, Add, MaxPool or Pad reads it; the values around
//   MaxPool/Pad/Transpose/Reshape reuse their input's parameters so ORT can run those ops on the int8 data;
// - the head convolutions' outputs (box regressors, logits) stay float32: only values some int8 kernel
//   reads are quantized, and the heads feed Transpose/Reshape/Concat into the graph outputs.
import { ToolkitError } from '../../errors.js';
import type { ModelProto, NodeProto, TensorProto } from './proto.js';

/** TensorProto.DataType values of the quantized tensors. */
export const QuantDataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6 } as const;

/** The quantized model cannot be built (no range for a tensor, a weight that is not an initializer, ...). */
export class OnnxQuantizeError extends ToolkitError {
  constructor(message: string, file?: string) {
    super('ONNX_QUANTIZE', message, { file });
  }
}

/** Observed range of one activation value. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** Per-tensor affine uint8 parameters: real = scale * (q - zeroPoint). */
export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * uint8 asymmetric parameters covering [min, max] and 0. The scale is rounded to float32 first (that is
 * what the model stores), then the zero point is computed from it so that real 0 maps exactly to an integer.
 */
export function uint8Params(range: Range): QuantParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new OnnxQuantizeError(`activation range [${range.min}, ${range.max}] is not a finite interval`);
  }
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** Round half away from zero (ONNX's QuantizeLinear rounds half to even; for constants either is fine, this is fixed). */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export interface PerChannelWeights {
  /** One float32 scale per output channel (dimension 0). */
  readonly scales: Float32Array;
  readonly data: Int8Array;
}

/**
 * Symmetric int8 per-output-channel quantization of a weight laid out [M, ...]: scale_m = max|w_m| / 127,
 * q = round(w / scale_m) in [-127, 127] (not -128, so the range stays symmetric as ORT's u8s8 kernels
 * expect). An all-zero channel (the fast path's padding channels) gets scale 1 and q = 0.
 */
export function quantizeWeightsPerChannel(w: Float32Array, outChannels: number): PerChannelWeights {
  if (outChannels <= 0 || w.length % outChannels !== 0) {
    throw new OnnxQuantizeError(`weight of ${w.length} values does not split into ${outChannels} output channels`);
  }
  const per = w.length / outChannels;
  const scales = new Float32Array(outChannels);
  const data = new Int8Array(w.length);
  for (let m = 0; m < outChannels; m++) {
    let maxAbs = 0;
    for (let i = m * per; i < (m + 1) * per; i++) maxAbs = Math.max(maxAbs, Math.abs(w[i]!));
    const scale = maxAbs === 0 ? 1 : Math.fround(maxAbs / 127);
    scales[m] = scale;
    for (let i = m * per; i < (m + 1) * per; i++) data[i] = Math.max(-127, Math.min(127, roundHalfAway(w[i]! / scale)));
  }
  return { scales, data };
}

/** The largest int32 a bias may take; beyond it the input/weight scales are too fine for this bias. */
const INT32_MAX = 2 ** 31 - 1;

/** int32 bias with scale inScale * wScales[m] and zero point 0 (what the QDQ Conv selector requires). */
export function quantizeBias(bias: Float32Array, inScale: number, wScales: Float32Array): { scales: Float32Array; data: Int32Array } {
  if (bias.length !== wScales.length) {
    throw new OnnxQuantizeError(`bias has ${bias.length} values for ${wScales.length} output channels`);
  }
  const scales = new Float32Array(bias.length);
  const data = new Int32Array(bias.length);
  for (let m = 0; m < bias.length; m++) {
    const s = Math.fround(inScale * wScales[m]!);
    scales[m] = s;
    const q = roundHalfAway(bias[m]! / s);
    if (!(Math.abs(q) <= INT32_MAX)) {
      throw new OnnxQuantizeError(`bias[${m}] = ${bias[m]} at scale ${s} is ${q}, outside int32`);
    }
    data[m] = q;
  }
  return { scales, data };
}

function rawBytes(dataType: number, values: ArrayLike<number>): Uint8Array {
  const width = dataType === QuantDataType.INT32 || dataType === QuantDataType.FLOAT ? 4 : 1;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // Explicit little-endian: ONNX raw_data is LE regardless of the host.
    if (dataType === QuantDataType.FLOAT) view.setFloat32(i * 4, v, true);
    else if (dataType === QuantDataType.INT32) view.setInt32(i * 4, v, true);
    else if (dataType === QuantDataType.INT8) view.setInt8(i, v);
    else view.setUint8(i, v);
  }
  return out;
}

function tensor(name: string, dataType: number, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], data_type: dataType, raw_data: rawBytes(dataType, values) };
}

function readFloats(t: TensorProto, file?: string): Float32Array {
  if (t.data_type !== QuantDataType.FLOAT) throw new OnnxQuantizeError(`initializer '${t.name}' is of type ${t.data_type}, float32 expected`, file);
  const raw = t.raw_data;
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (raw.byteLength !== n * 4) throw new OnnxQuantizeError(`initializer '${t.name}' holds ${raw.byteLength} bytes for dims [${t.dims.join(',')}]`, file);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
}

/** Ops that read quantized activations as int8 kernels (a Q/DQ pair on their inputs pays off). */
const INT8_CONSUMERS = new Set(['Conv', 'Add', 'MaxPool', 'Pad']);
/** Ops whose output keeps its input's quantization (ORT drops the Q/DQ pair around them when scales match). */
const SAME_PARAMS = new Set(['MaxPool', 'Pad', 'Transpose', 'Reshape']);

export interface QuantizeOptions {
  /** Multiply every activation scale by this (tests: a deliberately broken quantization). Default 1. */
  readonly scaleFactor?: number;
  /** Name in error messages. */
  readonly file?: string;
}

export interface QuantizeSummary {
  /** Activation values given a Q/DQ pair. */
  readonly activations: number;
  /** Conv nodes whose weights became int8. */
  readonly convs: number;
  /** Conv nodes left in float32 (data input not quantized). */
  readonly floatConvs: string[];
}

/**
 * The QDQ model of an fp32 model: `ranges` maps ONNX value names to calibrated ranges (./calibrate.ts).
 * A value without a range is left float32 (and a Conv reading it keeps float weights). Deterministic:
 * same model and ranges, same bytes.
 */
export function quantizeModel(model: ModelProto, ranges: ReadonlyMap<string, Range>, options: QuantizeOptions = {}): { model: ModelProto; summary: QuantizeSummary } {
  const file = options.file;
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.node) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const outputs = new Set(g.output.map((o) => o.name));

  // 1. Which activation values get a Q/DQ pair, with which parameters (graph order, so a SAME_PARAMS op's input is decided first).
  const params = new Map<string, QuantParams>();
  const factor = options.scaleFactor ?? 1;
  const decide = (value: string): void => {
    if (inits.has(value) || outputs.has(value) || params.has(value)) return;
    const users = consumers.get(value) ?? [];
    if (!users.some((u) => INT8_CONSUMERS.has(u.op_type))) return;
    const from = producer.get(value);
    const inherited = from && SAME_PARAMS.has(from.op_type) ? params.get(from.input[0]!) : undefined;
    if (inherited) {
      params.set(value, inherited);
      return;
    }
    const range = ranges.get(value);
    if (!range) return;
    const p = uint8Params(range);
    params.set(value, factor === 1 ? p : { scale: Math.fround(p.scale * factor), zeroPoint: p.zeroPoint });
  };
  for (const i of g.input) decide(i.name);
  for (const n of g.node) for (const o of n.output) decide(o);

  // 2. Rewrite: Q/DQ after each chosen value, consumers read the DQ output; Conv weights and biases int8/int32.
  const newInits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const dqName = (v: string) => `${v}/dq`;
  const qdq = (value: string): void => {
    const p = params.get(value)!;
    const s = `${value}/scale`;
    const z = `${value}/zero_point`;
    newInits.push(tensor(s, QuantDataType.FLOAT, [], [p.scale]), tensor(z, QuantDataType.UINT8, [], [p.zeroPoint]));
    nodes.push(
      { name: `${value}/QuantizeLinear`, op_type: 'QuantizeLinear', input: [value, s, z], output: [`${value}/q`], attribute: [] },
      { name: `${value}/DequantizeLinear`, op_type: 'DequantizeLinear', input: [`${value}/q`, s, z], output: [dqName(value)], attribute: [] },
    );
  };
  const rename = (n: NodeProto): NodeProto => ({ ...n, input: n.input.map((i) => (params.has(i) ? dqName(i) : i)) });
  let convs = 0;
  const floatConvs: string[] = [];
  for (const i of g.input) if (params.has(i.name)) qdq(i.name);
  for (const n of g.node) {
    if (n.op_type === 'Conv') {
      const x = n.input[0]!;
      const xp = params.get(x);
      if (!xp) {
        floatConvs.push(n.name);
        nodes.push(n);
      } else {
        nodes.push(...quantizeConvNode(n, xp, inits, newInits, file));
        convs++;
      }
    } else {
      nodes.push(rename(n));
    }
    for (const o of n.output) if (params.has(o)) qdq(o);
  }
  // Float weights still read by some node (float convs) stay; the others are replaced by their int8 forms.
  const stillRead = new Set(nodes.flatMap((n) => n.input));
  const initializer = [...g.initializer.filter((t) => stillRead.has(t.name)), ...newInits];
  return {
    model: { ...model, graph: { ...g, node: nodes, initializer } },
    summary: { activations: params.size, convs, floatConvs },
  };
}

/** DequantizeLinear of the int8 weight and int32 bias, then the Conv reading the activation's DQ value. */
function quantizeConvNode(n: NodeProto, xp: QuantParams, inits: ReadonlyMap<string, TensorProto>, out: TensorProto[], file?: string): NodeProto[] {
  const [x, wName, bName] = n.input as [string, string, string | undefined];
  const w = inits.get(wName);
  if (!w) throw new OnnxQuantizeError(`Conv '${n.name}': weight '${wName}' is not an initializer`, file);
  const m = w.dims[0]!;
  const q = quantizeWeightsPerChannel(readFloats(w, file), m);
  const prefix = n.name;
  const nodes: NodeProto[] = [];
  const axis0 = [{ name: 'axis', type: 2, i: 0 }];
  out.push(
    tensor(`${prefix}/w_int8`, QuantDataType.INT8, w.dims, q.data),
    tensor(`${prefix}/w_scale`, QuantDataType.FLOAT, [m], q.scales),
    tensor(`${prefix}/w_zero_point`, QuantDataType.INT8, [m], new Int8Array(m)),
  );
  nodes.push({
    name: `${prefix}/w_DequantizeLinear`,
    op_type: 'DequantizeLinear',
    input: [`${prefix}/w_int8`, `${prefix}/w_scale`, `${prefix}/w_zero_point`],
    output: [`${prefix}/w_dq`],
    attribute: axis0,
  });
  const inputs = [`${x}/dq`, `${prefix}/w_dq`];
  if (bName) {
    const b = inits.get(bName);
    if (!b) throw new OnnxQuantizeError(`Conv '${n.name}': bias '${bName}' is not an initializer`, file);
    const qb = quantizeBias(readFloats(b, file), xp.scale, q.scales);
    out.push(
      tensor(`${prefix}/b_int32`, QuantDataType.INT32, [m], qb.data),
      tensor(`${prefix}/b_scale`, QuantDataType.FLOAT, [m], qb.scales),
      tensor(`${prefix}/b_zero_point`, QuantDataType.INT32, [m], new Int32Array(m)),
    );
    nodes.push({
      name: `${prefix}/b_DequantizeLinear`,
      op_type: 'DequantizeLinear',
      input: [`${prefix}/b_int32`, `${prefix}/b_scale`, `${prefix}/b_zero_point`],
      output: [`${prefix}/b_dq`],
      attribute: axis0,
    });
    inputs.push(`${prefix}/b_dq`);
  }
  nodes.push({ ...n, input: inputs });
  return nodes;
}

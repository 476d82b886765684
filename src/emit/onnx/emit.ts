// ONNX emitter: Graph IR -> model.onnx bytes (opset 17, IR version 8, NCHW-native).
// The input stays TFLite's NHWC float32 [N,H,W,3] (one Transpose into NCHW), the outputs keep TFLite's
// shapes and element order ([N,A,16] regressors, [N,A,1] classificators); N is a symbolic dimension.
// Ops go through the lowering table in ./lowerings.ts; layouts are tracked by ./builder.ts.
import { detectorOutputs, imageInput, type Graph, type Op } from '../../ir/graph.js';
import type { Preset } from '../../presets/types.js';
import { OnnxEmitError, OnnxGraphBuilder } from './builder.js';
import { lowerOp, ONNX_FAST_PATH, type OnnxLoweringOptions, type PadFold, type SplitResidual } from './lowerings.js';
import { planChannelWidths, type ChannelWidths } from './widths.js';
import { decodeModel, encodeModel, OnnxDataType, type DimProto, type ModelProto, type ValueInfoProto } from './proto.js';

export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17 (onnx 1.12..1.13); newer checkers accept it too. */
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAMES = { regressors: 'regressors', classificators: 'classificators' } as const;
export const BATCH_DIM_PARAM = 'N';

export interface OnnxEmitMeta {
  toolkitVersion: string;
  /** Speed choices; the committed artifacts use ONNX_FAST_PATH (the bench compares others). */
  lowering?: Partial<OnnxLoweringOptions>;
}

/**
 * PAD ops that only zero-pad H/W and feed exactly one convolution (as its data input) are folded into
 * that convolution's `pads`: same arithmetic, one node less.
 */
export function findPadFolds(graph: Graph): Map<number, PadFold> {
  const consumers = new Map<number, Op[]>();
  for (const op of graph.ops) {
    for (const i of op.inputs) {
      if (i >= 0) consumers.set(i, [...(consumers.get(i) ?? []), op]);
    }
  }
  const folds = new Map<number, PadFold>();
  for (const op of graph.ops) {
    if (op.type !== 'PAD' || op.paddings.length !== 4) continue;
    const [n, h, w, c] = op.paddings as [readonly [number, number], readonly [number, number], readonly [number, number], readonly [number, number]];
    if (n[0] !== 0 || n[1] !== 0 || c[0] !== 0 || c[1] !== 0 || [...h, ...w].some((p) => p < 0)) continue;
    const out = op.outputs[0]!;
    if (graph.outputs.includes(out)) continue;
    const users = consumers.get(out) ?? [];
    const conv = users[0];
    if (users.length !== 1 || !conv || (conv.type !== 'CONV_2D' && conv.type !== 'DEPTHWISE_CONV_2D')) continue;
    if (conv.inputs[0] !== out || conv.inputs.slice(1).includes(out)) continue;
    folds.set(conv.index, { padOp: op.index, input: op.inputs[0]!, pads: [h[0], w[0], h[1], w[1]] });
  }
  return folds;
}

/**
 * Residual ADDs lowered as split convs + Concat (lowerings.ts SplitResidual): ADD(PAD(x), conv) where the
 * PAD only appends channels, x carries fewer channels than the sum (both multiples of `align`, the
 * NCHWc block), and the PAD and the group-1 conv
 * (no fused activation) feed only this ADD; a RELU that is the ADD's only consumer is folded in.
 */
export function findSplitResiduals(graph: Graph, widths: ChannelWidths, align: number): Map<number, SplitResidual> {
  const consumers = new Map<number, Op[]>();
  for (const op of graph.ops) {
    for (const i of op.inputs) {
      if (i >= 0) consumers.set(i, [...(consumers.get(i) ?? []), op]);
    }
  }
  const producer = new Map<number, Op>();
  for (const op of graph.ops) for (const o of op.outputs) producer.set(o, op);
  const width = (t: number): number => widths.get(t) ?? graph.tensors[t]!.shape[3]!;
  const onlyUse = (t: number, op: Op): boolean => !graph.outputs.includes(t) && consumers.get(t)?.length === 1 && consumers.get(t)![0] === op;
  const splits = new Map<number, SplitResidual>();
  for (const add of graph.ops) {
    if (add.type !== 'ADD' || add.inputs.length !== 2 || add.outputs.length !== 1) continue;
    const out = add.outputs[0]!;
    if (graph.tensors[out]?.shape.length !== 4) continue;
    const [p, c] = add.inputs.map((i) => producer.get(i));
    const [pad, conv] = p?.type === 'PAD' ? [p, c] : [c, p];
    if (pad?.type !== 'PAD' || conv?.type !== 'CONV_2D' || conv.activation !== 'NONE') continue;
    if (!onlyUse(pad.outputs[0]!, add) || !onlyUse(conv.outputs[0]!, add) || pad.inputs[0] === undefined || pad.inputs[0] < 0) continue;
    const [n, h, w, ch] = pad.paddings;
    if (pad.paddings.length !== 4 || ![...n!, ...h!, ...w!].every((v) => v === 0) || ch![0] !== 0 || ch![1] <= 0) continue;
    const [kw, xt] = [graph.tensors[conv.inputs[1]!], graph.tensors[conv.inputs[0]!]];
    if (!kw || !xt || kw.shape[3] !== xt.shape[3]) continue;
    // Both halves block-aligned, or ORT could not keep the Concat in NCHWc (an identity conv is cheaper then).
    const wA = width(pad.inputs[0]);
    if (!(wA < width(out)) || align <= 1 || wA % align !== 0 || width(out) % align !== 0) continue;
    const next = consumers.get(out);
    const relu = next?.length === 1 && !graph.outputs.includes(out) ? next[0] : undefined;
    splits.set(add.index, { add, conv, pad, relu: relu?.type === 'RELU' ? relu : undefined });
  }
  return splits;
}

export function valueInfo(name: string, dims: readonly (number | string)[]): ValueInfoProto {
  const dim: DimProto[] = dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return { name, type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim } } } };
}

/** Everything a reader of the .onnx needs to decode its outputs, as metadata_props (fixed key order). */
function metadataProps(graph: Graph, preset: Preset, meta: OnnxEmitMeta): { key: string; value: string }[] {
  return [
    { key: 'source_file', value: graph.source.fileName },
    { key: 'source_sha256', value: graph.source.sha256 },
    { key: 'preset', value: preset.name },
    { key: 'input', value: `${ONNX_INPUT_NAME}: float32 NHWC [N,${preset.inputHeight},${preset.inputWidth},3], RGB scaled to [-1,1] (x / 127.5 - 1)` },
    { key: 'outputs', value: `${ONNX_OUTPUT_NAMES.regressors} [N,A,${preset.decode.numCoords}], ${ONNX_OUTPUT_NAMES.classificators} [N,A,1] raw logits; TFLite element order` },
    { key: 'anchor_options', value: JSON.stringify(preset.anchors) },
    { key: 'decode_options', value: JSON.stringify(preset.decode) },
    { key: 'nms_options', value: JSON.stringify(preset.nms) },
    { key: 'toolkit_version', value: meta.toolkitVersion },
  ];
}

export interface OnnxModelOptions {
  readonly graphName: string;
  readonly docString: string;
  readonly producerVersion: string;
  /** Graph outputs in order: IR tensor index and public name; each keeps TFLite's shape and element order. */
  readonly outputs: readonly { readonly index: number; readonly name: string }[];
  readonly metadata: readonly { key: string; value: string }[];
  readonly lowering?: Partial<OnnxLoweringOptions>;
}

/**
 * Lower any single-input NHWC graph to a ModelProto object (used by emitOnnx, and by tests on small
 * synthetic graphs that are not detectors).
 */
export function buildOnnxModelFor(graph: Graph, opts: OnnxModelOptions): ModelProto {
  const b = new OnnxGraphBuilder(graph);
  const input = imageInput(graph);
  if (input.shape.length !== 4) {
    throw new OnnxEmitError(`${graph.source.fileName}: input '${input.name}' has shape [${input.shape.join(',')}]; expected NHWC`, graph.source.fileName);
  }
  b.reserveIoName(input.index, ONNX_INPUT_NAME);
  for (const o of opts.outputs) b.reserveIoName(o.index, o.name);
  b.define(input.index, 'tflite');

  const padFolds = findPadFolds(graph);
  const folded = new Set([...padFolds.values()].map((f) => f.padOp));
  const options: OnnxLoweringOptions = { ...ONNX_FAST_PATH, ...opts.lowering };
  b.widths = planChannelWidths(graph, options.channelAlign);
  const splits = options.channelPad === 'split' ? findSplitResiduals(graph, b.widths, options.channelAlign) : new Map<number, SplitResidual>();
  for (const s of splits.values()) for (const op of [s.conv, s.pad, s.relu]) if (op) folded.add(op.index);
  const ctx = { b, padFolds, options, splits };
  for (const op of graph.ops) {
    if (!folded.has(op.index)) lowerOp(op, ctx);
  }
  // Outputs in TFLite layout under their public names (a Transpose only if the last op produced NCHW).
  for (const o of opts.outputs) b.value(o.index, 'tflite');

  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'blazeface-toolkit',
    producer_version: opts.producerVersion,
    doc_string: opts.docString,
    graph: {
      name: opts.graphName,
      node: b.nodes,
      initializer: b.initializers,
      input: [valueInfo(ONNX_INPUT_NAME, [BATCH_DIM_PARAM, ...input.shape.slice(1)])],
      output: opts.outputs.map((o) => valueInfo(o.name, [BATCH_DIM_PARAM, ...b.tensor(o.index).shape.slice(1)])),
    },
    metadata_props: [...opts.metadata],
  };
}

/** The detector's ModelProto object: outputs `regressors` then `classificators`, metadata for decoding. */
export function buildOnnxModel(graph: Graph, preset: Preset, meta: OnnxEmitMeta): ModelProto {
  const { regressors, classificators } = detectorOutputs(graph);
  return buildOnnxModelFor(graph, {
    graphName: preset.name,
    docString: `${preset.description}; converted from ${graph.source.fileName}`,
    producerVersion: meta.toolkitVersion,
    outputs: [
      { index: regressors.index, name: ONNX_OUTPUT_NAMES.regressors },
      { index: classificators.index, name: ONNX_OUTPUT_NAMES.classificators },
    ],
    metadata: metadataProps(graph, preset, meta),
    lowering: meta.lowering,
  });
}

/** Graph IR -> deterministic model.onnx bytes. */
export function emitOnnx(graph: Graph, preset: Preset, meta: OnnxEmitMeta): Uint8Array {
  return encodeModel(buildOnnxModel(graph, preset, meta));
}

/**
 * The same model with the symbolic batch dimension N of its inputs and outputs fixed to `n`. ONNX Runtime
 * then plans every shape and buffer once (measured faster at batch 1; npm run bench). Throws when the
 * bytes are not a model this emitter could have written (the proto subset in schemas/onnx.proto).
 */
export function withFixedBatch(bytes: Uint8Array, n: number): Uint8Array {
  const model = decodeModel(bytes);
  const fix = (v: ValueInfoProto): ValueInfoProto => {
    const dims = v.type.tensor_type.shape.dim;
    if (!(dims[0] && 'dim_param' in dims[0] && dims[0].dim_param === BATCH_DIM_PARAM)) {
      throw new OnnxEmitError(`${v.name}: dimension 0 is not the symbolic batch '${BATCH_DIM_PARAM}'`);
    }
    return { ...v, type: { tensor_type: { ...v.type.tensor_type, shape: { dim: [{ dim_value: n }, ...dims.slice(1)] } } } };
  };
  return encodeModel({ ...model, graph: { ...model.graph, input: model.graph.input.map(fix), output: model.graph.output.map(fix) } });
}

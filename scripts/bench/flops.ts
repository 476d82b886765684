// Multiply-adds of one image, counted from the Graph IR: convolutions and depthwise convolutions only
// (everything else is a handful of adds/compares per element and is not counted). FLOP = 2 x MAC.
import type { Graph } from '../../src/ir/graph.js';

export function convMacs(graph: Graph): number {
  let macs = 0;
  for (const op of graph.ops) {
    if (op.type !== 'CONV_2D' && op.type !== 'DEPTHWISE_CONV_2D') continue;
    const out = graph.tensors[op.outputs[0]!]!.shape;
    const w = graph.tensors[op.inputs[1]!]!.shape;
    const [outH, outW, outC] = [out[1]!, out[2]!, out[3]!];
    const [kh, kw] = [w[1]!, w[2]!];
    // CONV_2D: every output reads KH*KW*I inputs (I = filter channels, grouped convs included);
    // depthwise: every output reads one input channel's KH*KW window.
    const perOutput = op.type === 'CONV_2D' ? kh * kw * w[3]! : kh * kw;
    macs += outH * outW * outC * perOutput;
  }
  return macs;
}

/**
 * Multiply-adds ONNX Runtime's CPU provider actually executes for one image of our model.onnx: every
 * activation at its carried width (src/emit/onnx/widths.ts), and group-1 conv outputs rounded up to the
 * NCHWc block as ORT does internally (a 2-channel head computes `block` channels). Split residuals
 * (channelPad 'split') run the same rows as the whole conv, so they count the same.
 */
export function ortConvMacs(graph: Graph, widths: ReadonlyMap<number, number>, block: number): number {
  const up = (c: number): number => Math.ceil(c / block) * block;
  let macs = 0;
  for (const op of graph.ops) {
    if (op.type !== 'CONV_2D' && op.type !== 'DEPTHWISE_CONV_2D') continue;
    const [x, y] = [op.inputs[0]!, op.outputs[0]!];
    const out = graph.tensors[y]!.shape;
    const w = graph.tensors[op.inputs[1]!]!.shape;
    const width = (t: number): number => widths.get(t) ?? graph.tensors[t]!.shape[3]!;
    const perOutput = op.type === 'CONV_2D' ? w[1]! * w[2]! * (w[3] === graph.tensors[x]!.shape[3] ? width(x) : w[3]!) : w[1]! * w[2]!;
    macs += out[1]! * out[2]! * up(width(y)) * perOutput;
  }
  return macs;
}

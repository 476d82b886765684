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

// Channel widening plan for the ONNX graph. ONNX Runtime's CPU provider runs convolutions in its
// blocked NCHWc layout (blocks of 16 channels with AVX-512, 8 with AVX2) and pads every channel count
// to the block internally. Elementwise ops, Pad and MaxPool on a tensor whose channel count is not a
// multiple of the block run in plain NCHW, so ORT brackets them with ReorderInput/ReorderOutput, and a
// channel Pad on a skip path keeps the whole residual chain out of NCHWc. Carrying such tensors at the
// block width, the extra channels exactly zero, costs the convolutions nothing (ORT computes those
// channels anyway) and lets most of the BlazeBlocks' channel PADs vanish: 24 -> 28 is 32 -> 32.
//
// Tensors are grouped into classes that must share one width: the inputs and output of ADD, RELU,
// MAX_POOL_2D, RESIZE_BILINEAR, depthwise conv (multiplier 1) and zero spatial PADs, since each maps
// zero channels to zero channels. A class is widened to a multiple of `align` unless one of its
// tensors is produced or consumed by something that needs the exact channel count (graph I/O,
// RESHAPE, CONCATENATION, DEPTH_TO_SPACE, grouped convs, constants, any other op).
import type { Graph, Op } from '../../ir/graph.js';

/** The NCHWc block of ORT's AVX-512 kernels; a multiple of the AVX2 block (8). */
export const DEFAULT_CHANNEL_ALIGN = 16;

/** tensor index -> channel count carried in the ONNX graph; tensors not listed keep their own. */
export type ChannelWidths = ReadonlyMap<number, number>;

function isZeroSpatialPad(op: Extract<Op, { type: 'PAD' }>): boolean {
  if (op.paddings.length !== 4) return false;
  const [n, h, w, c] = op.paddings;
  return n![0] === 0 && n![1] === 0 && c![0] === 0 && c![1] === 0 && [...h!, ...w!].every((p) => p >= 0);
}

/** A PAD that appends zero channels (and possibly zero-pads H/W): the widened input still fits in front. */
function isChannelAppendPad(op: Extract<Op, { type: 'PAD' }>): boolean {
  if (op.paddings.length !== 4) return false;
  const [n, h, w, c] = op.paddings;
  return n![0] === 0 && n![1] === 0 && c![0] === 0 && c![1] > 0 && [...h!, ...w!].every((p) => p >= 0);
}

/** Plan the carried channel width of every 4-D activation; `align` <= 1 disables widening. */
export function planChannelWidths(graph: Graph, align: number = DEFAULT_CHANNEL_ALIGN): Map<number, number> {
  const widths = new Map<number, number>();
  if (align <= 1) return widths;
  const parent = new Map<number, number>();
  const find = (t: number): number => {
    let r = t;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(t, r);
    return r;
  };
  const union = (a: number, b: number): void => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(rb, ra);
  };
  const is4d = (t: number): boolean => t >= 0 && graph.tensors[t]?.shape.length === 4 && !graph.tensors[t]!.data;
  const exact = new Set<number>(); // tensors that must keep their channel count
  const widenable = new Set<number>(); // 4-D activations produced by an op that can widen its output

  for (const t of graph.inputs) exact.add(t);
  for (const t of graph.outputs) exact.add(t);
  for (const op of graph.ops) {
    const acts = op.inputs.filter((i) => i >= 0 && !graph.tensors[i]?.data);
    const out = op.outputs[0];
    const unifyAll = (): void => {
      for (const i of [...acts, ...op.outputs]) union(acts[0]!, i);
      for (const o of op.outputs) if (is4d(o)) widenable.add(o);
    };
    const allExact = (): void => {
      for (const i of [...acts, ...op.outputs]) exact.add(i);
    };
    if (out === undefined || op.outputs.length !== 1 || !is4d(out)) {
      allExact();
      continue;
    }
    switch (op.type) {
      case 'CONV_2D': {
        const w = graph.tensors[op.inputs[1]!];
        const x = graph.tensors[op.inputs[0]!];
        // Only a plain (group 1) conv can read a widened input through zero kernel columns.
        if (!w || !x || w.shape[3] !== x.shape[3]) exact.add(op.inputs[0]!);
        widenable.add(out);
        break;
      }
      case 'DEPTHWISE_CONV_2D':
        if (op.depthMultiplier === 1 && acts.length === 1 && is4d(acts[0]!)) unifyAll();
        else allExact();
        break;
      case 'ADD':
        // Broadcast against constants or lower ranks keeps exact channels.
        if (acts.length === op.inputs.length && acts.every(is4d) && acts.every((a) => graph.tensors[a]!.shape[3] === graph.tensors[out]!.shape[3])) unifyAll();
        else allExact();
        break;
      case 'RELU':
      case 'MAX_POOL_2D':
      case 'RESIZE_BILINEAR':
        if (acts.length === 1 && is4d(acts[0]!)) unifyAll();
        else allExact();
        break;
      case 'PAD':
        if (acts.length === 1 && is4d(acts[0]!) && isZeroSpatialPad(op)) unifyAll();
        else if (acts.length === 1 && is4d(acts[0]!) && isChannelAppendPad(op)) widenable.add(out);
        else allExact();
        break;
      default:
        allExact();
    }
  }
  // A class is exact if any member is; a channel PAD with an exact output needs an exact input
  // (a wider input would not fit in front of the appended channels). Iterate to a fixpoint.
  const exactRoots = new Set<number>();
  const classIsExact = (t: number): boolean => exactRoots.has(find(t));
  for (const t of exact) exactRoots.add(find(t));
  const tensors = graph.tensors.map((t) => t.index).filter(is4d);
  for (const t of tensors) if (!widenable.has(t)) exactRoots.add(find(t));
  for (let changed = true; changed; ) {
    changed = false;
    for (const op of graph.ops) {
      if (op.type !== 'PAD' || !isChannelAppendPad(op) || isZeroSpatialPad(op)) continue;
      const [x, y] = [op.inputs[0]!, op.outputs[0]!];
      if (is4d(x) && classIsExact(y) && !classIsExact(x)) {
        exactRoots.add(find(x));
        changed = true;
      }
    }
  }
  for (const t of tensors) {
    if (classIsExact(t)) continue;
    const c = graph.tensors[t]!.shape[3]!;
    const w = Math.ceil(c / align) * align;
    if (w !== c) widths.set(t, w);
  }
  return widths;
}

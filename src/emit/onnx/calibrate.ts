// Calibration for the int8 model (./quantize.ts): the range of every activation, observed by running the
// float64 reference interpreter (src/reference) on calibration images. The oracle rather than ONNX Runtime:
// it needs no optional package and gives the same doubles on every machine, so `convert --int8` writes
// the same bytes everywhere. Ranges are found per IR tensor and mapped to the ONNX values that carry it.
import type { ImageBatch } from '../../backends/backend.js';
import { imageInput, type Graph } from '../../ir/graph.js';
import { runReferenceTensors } from '../../reference/runtime.js';
import type { ModelProto } from './proto.js';
import type { Range } from './quantize.js';
import { ONNX_INPUT_NAME } from './emit.js';

/**
 * The range of every IR tensor the graph computes (input included) over all images of `batches`, one
 * image at a time: min/max, or with `percentile` < 100 that percentile of each tail per image (outliers
 * clipped), widened over the images.
 */
export function calibrateTensors(graph: Graph, batches: readonly ImageBatch[], percentile = 100): Map<number, Range> {
  const ranges = new Map<number, { min: number; max: number }>();
  for (const batch of batches) {
    const [n, h, w, c] = batch.shape;
    const per = h * w * c;
    // One image per run bounds memory (every intermediate is kept for the ranges).
    for (let k = 0; k < n; k++) {
      const one: ImageBatch = { shape: [1, h, w, c], data: batch.data.subarray(k * per, (k + 1) * per) };
      for (const [index, t] of runReferenceTensors(graph, one)) {
        let lo = Infinity;
        let hi = -Infinity;
        if (percentile < 100) {
          const sorted = Float64Array.from(t.data).sort();
          const cut = Math.floor(((100 - percentile) / 100) * (sorted.length - 1));
          lo = sorted[cut]!;
          hi = sorted[sorted.length - 1 - cut]!;
        } else {
          for (const v of t.data) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
        const r = ranges.get(index);
        ranges.set(index, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
      }
    }
  }
  return ranges;
}

/**
 * The ranges keyed by ONNX value name. The emitter names a value after its IR tensor ('name' for NCHW,
 * 'name/nhwc' for the TFLite layout of a 4-D tensor, 'input'/'input/nchw' for the image). A value whose
 * IR tensor name is ambiguous, or that has no IR tensor (a pre-activation temporary), gets no range and
 * stays float32 in the quantized model.
 */
export function rangesByOnnxValue(graph: Graph, model: ModelProto, tensorRanges: ReadonlyMap<number, Range>): Map<string, Range> {
  const byName = new Map<string, number | null>();
  for (const t of graph.tensors) byName.set(t.name, byName.has(t.name) ? null : t.index);
  byName.set(ONNX_INPUT_NAME, imageInput(graph).index);
  const out = new Map<string, Range>();
  const values = [...model.graph.input.map((i) => i.name), ...model.graph.node.flatMap((n) => n.output)];
  for (const v of values) {
    const base = v.replace(/\/(nchw|nhwc)$/, '');
    const index = byName.get(base);
    if (index === undefined || index === null) continue;
    const r = tensorRanges.get(index);
    if (r) out.set(v, r);
  }
  return out;
}

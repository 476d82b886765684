// ADD (numpy broadcasting, then the fused activation) and RELU.
import type { Activation } from '../../ir/graph.js';
import { applyActivation, ReferenceShapeError, sizeOf, type F64Tensor } from '../tensor.js';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** numpy broadcast of two shapes (right-aligned; each pair equal or one of them 1). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ReferenceShapeError(`ADD: shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides of `shape` seen through `outShape`: 0 on broadcast dimensions. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = shape[shape.length - rank + i] ?? 1;
    strides[i] = d === 1 ? 0 : s;
    s *= d;
  }
  return strides;
}

export function add(a: F64Tensor, b: F64Tensor, activation: Activation): F64Tensor {
  if (sameShape(a.shape, b.shape)) {
    const out = new Float64Array(a.data.length);
    const ad = a.data;
    const bd = b.data;
    for (let i = 0; i < out.length; i++) out[i] = ad[i]! + bd[i]!;
    applyActivation(out, activation);
    return { shape: [...a.shape], data: out };
  }
  const shape = broadcastShape(a.shape, b.shape);
  const rank = shape.length;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const out = new Float64Array(sizeOf(shape));
  // Odometer over all but the innermost dimension; the innermost runs as a strided loop.
  const inner = shape[rank - 1] ?? 1;
  const ia = sa[rank - 1] ?? 0;
  const ib = sb[rank - 1] ?? 0;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let oa = 0;
  let ob = 0;
  for (let o = 0; o < out.length; o += inner) {
    for (let k = 0; k < inner; k++) out[o + k] = a.data[oa + k * ia]! + b.data[ob + k * ib]!;
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      oa += sa[d]!;
      ob += sb[d]!;
      if (idx[d]! < shape[d]!) break;
      oa -= sa[d]! * shape[d]!;
      ob -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  applyActivation(out, activation);
  return { shape, data: out };
}

export function relu(x: F64Tensor): F64Tensor {
  const out = Float64Array.from(x.data);
  applyActivation(out, 'RELU');
  return { shape: [...x.shape], data: out };
}

// Data movement: PAD (zeros), RESHAPE, CONCATENATION, DEPTH_TO_SPACE (TF's DCR order).
import { expectRank, ReferenceShapeError, sizeOf, type F64Tensor } from '../tensor.js';

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Zero padding with one [before, after] pair per dimension. */
export function pad(x: F64Tensor, paddings: readonly (readonly [number, number])[]): F64Tensor {
  const rank = x.shape.length;
  if (paddings.length !== rank) {
    throw new ReferenceShapeError(`PAD: ${paddings.length} padding pairs for a rank-${rank} input [${x.shape.join(',')}]`);
  }
  if (paddings.some(([b, a]) => b < 0 || a < 0)) throw new ReferenceShapeError('PAD: negative padding');
  if (rank === 0) return { shape: [], data: Float64Array.from(x.data) };
  const outShape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const outStrides = stridesOf(outShape);
  const out = new Float64Array(sizeOf(outShape));
  const inner = x.shape[rank - 1]!;
  let base = 0;
  for (let i = 0; i < rank; i++) base += paddings[i]![0] * outStrides[i]!;
  if (inner === 0 || x.data.length === 0) return { shape: outShape, data: out };
  // Copy each contiguous innermost run of the input to its place in the output.
  const idx = new Array<number>(rank - 1).fill(0);
  let dst = base;
  for (let src = 0; src < x.data.length; src += inner) {
    out.set(x.data.subarray(src, src + inner), dst);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      dst += outStrides[d]!;
      if (idx[d]! < x.shape[d]!) break;
      dst -= outStrides[d]! * x.shape[d]!;
      idx[d] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/**
 * RESHAPE. Dimension 0 of `newShape` is the batch as declared by the file (1): it becomes
 * `batch * newShape[0]`; a -1 anywhere is inferred from the element count.
 */
export function reshape(x: F64Tensor, newShape: readonly number[], batch: number): F64Tensor {
  const shape = newShape.map((d, i) => (i === 0 && d !== -1 ? d * batch : d));
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new ReferenceShapeError(`RESHAPE: more than one -1 in [${newShape.join(',')}]`);
  const total = x.data.length;
  if (unknown === 1) {
    const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
    if (known === 0 || total % known !== 0) {
      throw new ReferenceShapeError(`RESHAPE: cannot infer -1 in [${newShape.join(',')}] for ${total} elements`);
    }
    shape[shape.indexOf(-1)] = total / known;
  }
  if (sizeOf(shape) !== total) {
    throw new ReferenceShapeError(`RESHAPE: [${x.shape.join(',')}] (${total} elements) cannot become [${shape.join(',')}]`);
  }
  // Tensors are never mutated after creation, so the data is shared.
  return { shape, data: x.data };
}

export function concatenation(inputs: readonly F64Tensor[], axis: number): F64Tensor {
  const first = inputs[0];
  if (!first) throw new ReferenceShapeError('CONCATENATION: no inputs');
  const rank = first.shape.length;
  if (axis < 0 || axis >= rank) throw new ReferenceShapeError(`CONCATENATION: axis ${axis} out of range for rank ${rank}`);
  for (const t of inputs) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new ReferenceShapeError(
        `CONCATENATION on axis ${axis}: [${t.shape.join(',')}] does not match [${first.shape.join(',')}]`,
      );
    }
  }
  const outShape = [...first.shape];
  outShape[axis] = inputs.reduce((a, t) => a + t.shape[axis]!, 0);
  const outer = sizeOf(first.shape.slice(0, axis));
  const chunks = inputs.map((t) => sizeOf(t.shape.slice(axis)));
  const out = new Float64Array(sizeOf(outShape));
  let dst = 0;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inputs.length; k++) {
      const len = chunks[k]!;
      out.set(inputs[k]!.data.subarray(o * len, (o + 1) * len), dst);
      dst += len;
    }
  }
  return { shape: outShape, data: out };
}

/** out[n, h*bs+by, w*bs+bx, c] = in[n, h, w, (by*bs + bx)*C' + c] (depth-column-row, TF's default). */
export function depthToSpace(x: F64Tensor, blockSize: number): F64Tensor {
  expectRank(x, 4, 'DEPTH_TO_SPACE input');
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const bs = blockSize;
  if (bs < 1 || c % (bs * bs) !== 0) {
    throw new ReferenceShapeError(`DEPTH_TO_SPACE: ${c} channels are not divisible by block_size^2 = ${bs * bs}`);
  }
  const oc = c / (bs * bs);
  const oh = h * bs;
  const ow = w * bs;
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const src = ((b * h + y) * w + xx) * c;
        for (let by = 0; by < bs; by++) {
          for (let bx = 0; bx < bs; bx++) {
            const dst = ((b * oh + y * bs + by) * ow + xx * bs + bx) * oc;
            out.set(x.data.subarray(src + (by * bs + bx) * oc, src + (by * bs + bx + 1) * oc), dst);
          }
        }
      }
    }
  }
  return { shape: [n, oh, ow, oc], data: out };
}

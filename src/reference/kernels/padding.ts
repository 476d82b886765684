// Output size and leading padding of a windowed op, as TFLite computes them
// (kernels/padding.h ComputePaddingHeightWidth): SAME pads total = max((out-1)*stride + effK - in, 0),
// floor(total/2) before and the odd pixel after (bottom/right); VALID pads nothing.
import type { Padding } from '../../ir/graph.js';
import { ReferenceShapeError } from '../tensor.js';

export interface Window1D {
  readonly out: number;
  /** Padding before the first input element (top or left). */
  readonly before: number;
}

export function window1D(inSize: number, kernel: number, stride: number, dilation: number, padding: Padding): Window1D {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'SAME') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + effective - inSize, 0);
    return { out, before: Math.floor(total / 2) };
  }
  const out = Math.floor((inSize - effective) / stride) + 1;
  if (out < 1) {
    throw new ReferenceShapeError(`VALID window of ${effective} (kernel ${kernel}, dilation ${dilation}) exceeds input size ${inSize}`);
  }
  return { out, before: 0 };
}

// Float64 activations of the reference runtime: a shape (batch first, NHWC) and row-major data.
import { ToolkitError } from '../errors.js';
import type { Activation } from '../ir/graph.js';

export interface F64Tensor {
  shape: number[];
  data: Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A kernel was given operands it cannot work with (wrong rank, mismatched channels, ...). */
export class ReferenceShapeError extends ToolkitError {
  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super('REFERENCE_SHAPE', message, options);
  }
}

export function expectRank(t: F64Tensor, rank: number, what: string): void {
  if (t.shape.length !== rank) {
    throw new ReferenceShapeError(`${what}: expected rank ${rank}, got [${t.shape.join(',')}]`);
  }
}

/** Apply a TFLite fused activation in place. */
export function applyActivation(data: Float64Array, act: Activation): void {
  switch (act) {
    case 'NONE':
      return;
    case 'RELU':
      for (let i = 0; i < data.length; i++) if (data[i]! < 0) data[i] = 0;
      return;
    case 'RELU6':
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        data[i] = v < 0 ? 0 : v > 6 ? 6 : v;
      }
      return;
    case 'RELU_N1_TO_1':
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        data[i] = v < -1 ? -1 : v > 1 ? 1 : v;
      }
      return;
    case 'TANH':
      for (let i = 0; i < data.length; i++) data[i] = Math.tanh(data[i]!);
      return;
    default: {
      const never: never = act;
      throw new ReferenceShapeError(`unknown fused activation ${String(never)}`);
    }
  }
}

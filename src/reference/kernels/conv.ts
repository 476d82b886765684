// CONV_2D and DEPTHWISE_CONV_2D with TFLite's semantics (reference_ops Conv / DepthwiseConv):
// NHWC input, SAME/VALID padding from ./padding.ts, dilation, bias, fused activation.
// Loops run over flat Float64Arrays with the output channel innermost so the hot loop is contiguous.
import type { Conv2DOp } from '../../ir/graph.js';
import { applyActivation, expectRank, ReferenceShapeError, type F64Tensor } from '../tensor.js';
import { window1D } from './padding.js';

/** The window attributes a conv kernel reads, as the IR's op records carry them. */
export type WindowParams = Pick<Conv2DOp, 'padding' | 'strideH' | 'strideW' | 'dilationH' | 'dilationW' | 'activation'>;

/** A conv filter rearranged from TFLite's [O,KH,KW,I] to [KH,KW,I,O] (output channel innermost). */
export interface ConvFilter {
  readonly kh: number;
  readonly kw: number;
  readonly inC: number;
  readonly outC: number;
  readonly hwio: Float64Array;
  /** Every weight finite: only then may a zero input be skipped (0 * Inf is NaN in TFLite). */
  readonly finite: boolean;
}

export function prepareConvFilter(data: ArrayLike<number>, shape: readonly number[]): ConvFilter {
  if (shape.length !== 4) throw new ReferenceShapeError(`CONV_2D filter: expected [O,KH,KW,I], got [${shape.join(',')}]`);
  const [outC, kh, kw, inC] = shape as [number, number, number, number];
  const hwio = new Float64Array(outC * kh * kw * inC);
  for (let o = 0; o < outC; o++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const src = ((o * kh + y) * kw + x) * inC;
        const dst = (y * kw + x) * inC * outC + o;
        for (let i = 0; i < inC; i++) hwio[dst + i * outC] = data[src + i]!;
      }
    }
  }
  return { kh, kw, inC, outC, hwio, finite: hwio.every(Number.isFinite) };
}

export function conv2d(x: F64Tensor, filter: ConvFilter, bias: Float64Array | null, p: WindowParams): F64Tensor {
  expectRank(x, 4, 'CONV_2D input');
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const { kh, kw, inC, outC, hwio, finite } = filter;
  if (c !== inC) throw new ReferenceShapeError(`CONV_2D: input has ${c} channels, filter expects ${inC}`);
  if (bias && bias.length !== outC) throw new ReferenceShapeError(`CONV_2D: bias has ${bias.length} values, expected ${outC}`);
  const wy = window1D(h, kh, p.strideH, p.dilationH, p.padding);
  const wx = window1D(w, kw, p.strideW, p.dilationW, p.padding);
  const oh = wy.out;
  const ow = wx.out;
  const out = new Float64Array(n * oh * ow * outC);
  const xd = x.data;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * p.strideH - wy.before;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * p.strideW - wx.before;
        const ob = ((b * oh + oy) * ow + ox) * outC;
        if (bias) out.set(bias, ob);
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky * p.dilationH;
          if (iy < 0 || iy >= h) continue; // padded cells contribute zero
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * p.dilationW;
            if (ix < 0 || ix >= w) continue;
            const xb = ((b * h + iy) * w + ix) * inC;
            const wb = (ky * kw + kx) * inC * outC;
            for (let i = 0; i < inC; i++) {
              const xv = xd[xb + i]!;
              if (xv === 0 && finite) continue; // common after ReLU; adding 0*w changes nothing
              const wo = wb + i * outC;
              for (let o = 0; o < outC; o++) out[ob + o]! += xv * hwio[wo + o]!;
            }
          }
        }
      }
    }
  }
  applyActivation(out, p.activation);
  return { shape: [n, oh, ow, outC], data: out };
}

/**
 * Depthwise filter [1,KH,KW,C*M]: output channel c*M + m reads input channel c (TFLite's order).
 * `depthMultiplier` from the options is checked against the filter; 0 means "derive it".
 */
export function depthwiseConv2d(
  x: F64Tensor,
  filter: Float64Array,
  filterShape: readonly number[],
  bias: Float64Array | null,
  depthMultiplier: number,
  p: WindowParams,
): F64Tensor {
  expectRank(x, 4, 'DEPTHWISE_CONV_2D input');
  if (filterShape.length !== 4 || filterShape[0] !== 1) {
    throw new ReferenceShapeError(`DEPTHWISE_CONV_2D filter: expected [1,KH,KW,C*M], got [${filterShape.join(',')}]`);
  }
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [, kh, kw, outC] = filterShape as [number, number, number, number];
  if (outC % c !== 0) throw new ReferenceShapeError(`DEPTHWISE_CONV_2D: filter has ${outC} channels, not a multiple of input channels ${c}`);
  const m = outC / c;
  if (depthMultiplier !== 0 && depthMultiplier !== m) {
    throw new ReferenceShapeError(`DEPTHWISE_CONV_2D: depth_multiplier ${depthMultiplier} but filter/input channels give ${m}`);
  }
  if (bias && bias.length !== outC) throw new ReferenceShapeError(`DEPTHWISE_CONV_2D: bias has ${bias.length} values, expected ${outC}`);
  const wy = window1D(h, kh, p.strideH, p.dilationH, p.padding);
  const wx = window1D(w, kw, p.strideW, p.dilationW, p.padding);
  const oh = wy.out;
  const ow = wx.out;
  const out = new Float64Array(n * oh * ow * outC);
  const xd = x.data;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * p.strideH - wy.before;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * p.strideW - wx.before;
        const ob = ((b * oh + oy) * ow + ox) * outC;
        if (bias) out.set(bias, ob);
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky * p.dilationH;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * p.dilationW;
            if (ix < 0 || ix >= w) continue;
            const xb = ((b * h + iy) * w + ix) * c;
            const wb = (ky * kw + kx) * outC;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) out[ob + ch]! += xd[xb + ch]! * filter[wb + ch]!;
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xv = xd[xb + ch]!;
                const base = ch * m;
                for (let k = 0; k < m; k++) out[ob + base + k]! += xv * filter[wb + base + k]!;
              }
            }
          }
        }
      }
    }
  }
  applyActivation(out, p.activation);
  return { shape: [n, oh, ow, outC], data: out };
}

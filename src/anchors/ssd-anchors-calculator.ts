// Port of MediaPipe's SsdAnchorsCalculator (mediapipe/calculators/tflite/ssd_anchors_calculator.cc,
// GenerateAnchors; options from ssd_anchors_calculator.proto). The multiscale (RetinaNet) branch is not
// ported: no face model uses it and SsdAnchorsOptions has no fields for it.
import { ToolkitError } from '../errors.js';
import type { SsdAnchorsOptions } from '../presets/types.js';

/** Values per anchor row: [x_center, y_center, w, h]. */
export const ANCHOR_ROW_LENGTH = 4;

/** The options cannot produce an anchor table (MediaPipe would CHECK-fail, loop forever or emit NaN). */
export class AnchorOptionsError extends ToolkitError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('ANCHOR_OPTIONS', `SsdAnchorsOptions.${option} ${message}`);
    this.option = option;
  }
}

/**
 * 'float64' (default) computes in double precision, which is what the seed's Python notebook did
 * (its anchors.npy is reproduced byte for byte). 'float32' reproduces MediaPipe's C++ arithmetic,
 * where options and every intermediate are `float`; results differ from float64 by < 1e-7.
 */
export type AnchorPrecision = 'float64' | 'float32';

export interface GenerateAnchorsConfig {
  precision?: AnchorPrecision;
}

/** One anchor shape emitted at every cell of a group. */
export interface AnchorShape {
  scale: number;
  aspectRatio: number;
  width: number;
  height: number;
}

/**
 * Consecutive layers with the same stride are merged by MediaPipe into one group: the group uses the
 * feature map of its first layer and concatenates the anchor shapes of all its layers per cell.
 */
export interface AnchorGroup {
  /** First layer index (inclusive) and end layer index (exclusive). */
  firstLayer: number;
  endLayer: number;
  stride: number;
  featureMapWidth: number;
  featureMapHeight: number;
  shapes: AnchorShape[];
  /** Index of the group's first anchor row in the table. */
  firstRow: number;
  /** featureMapWidth * featureMapHeight * shapes.length */
  rowCount: number;
}

function isPositiveInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}

function checkIntList(name: string, list: readonly number[], expectedLength: number, lengthWhy: string): void {
  if (list.length !== expectedLength) {
    throw new AnchorOptionsError(name, `has ${list.length} entries but ${lengthWhy} is ${expectedLength}`);
  }
  list.forEach((v, i) => {
    if (!isPositiveInt(v)) throw new AnchorOptionsError(`${name}[${i}]`, `must be a positive integer, got ${v}`);
  });
}

/** Throws AnchorOptionsError naming the first offending option. */
export function validateSsdAnchorsOptions(options: SsdAnchorsOptions): void {
  const o = options;
  if (!isPositiveInt(o.inputSizeWidth)) throw new AnchorOptionsError('inputSizeWidth', `must be a positive integer, got ${o.inputSizeWidth}`);
  if (!isPositiveInt(o.inputSizeHeight)) throw new AnchorOptionsError('inputSizeHeight', `must be a positive integer, got ${o.inputSizeHeight}`);
  if (!isPositiveInt(o.numLayers)) throw new AnchorOptionsError('numLayers', `must be a positive integer, got ${o.numLayers}`);
  for (const key of ['minScale', 'maxScale'] as const) {
    // sqrt(scale * next_scale) and scale / sqrt(ratio) need positive scales.
    if (!Number.isFinite(o[key]) || o[key] <= 0) throw new AnchorOptionsError(key, `must be a finite number > 0, got ${o[key]}`);
  }
  for (const key of ['anchorOffsetX', 'anchorOffsetY'] as const) {
    if (!Number.isFinite(o[key])) throw new AnchorOptionsError(key, `must be finite, got ${o[key]}`);
  }
  if (o.featureMapHeight.length === 0 && o.featureMapWidth.length === 0 && o.strides.length === 0) {
    throw new AnchorOptionsError('strides', 'is empty and so are featureMapWidth/featureMapHeight: provide strides or feature map sizes');
  }
  // MediaPipe groups layers by stride even when feature map sizes are explicit (and loops forever if
  // strides are shorter than num_layers), so strides are always required, one per layer.
  checkIntList('strides', o.strides, o.numLayers, 'numLayers');
  if (o.featureMapHeight.length > 0 || o.featureMapWidth.length > 0) {
    checkIntList('featureMapHeight', o.featureMapHeight, o.numLayers, 'numLayers');
    checkIntList('featureMapWidth', o.featureMapWidth, o.featureMapHeight.length, 'featureMapHeight.length');
  }
  o.aspectRatios.forEach((r, i) => {
    if (!Number.isFinite(r) || r <= 0) throw new AnchorOptionsError(`aspectRatios[${i}]`, `must be a finite number > 0, got ${r}`);
  });
  if (!Number.isFinite(o.interpolatedScaleAspectRatio) || o.interpolatedScaleAspectRatio < 0) {
    throw new AnchorOptionsError(
      'interpolatedScaleAspectRatio',
      `must be >= 0 (0 disables the interpolated anchor), got ${o.interpolatedScaleAspectRatio}`,
    );
  }
}

type Round = (v: number) => number;
const identity: Round = (v) => v;

// MediaPipe's CalculateScale. The C++ mixes float and double (`* 1.0`) and narrows the result to float.
function calculateScale(minScale: number, maxScale: number, strideIndex: number, numStrides: number, r: Round): number {
  if (numStrides === 1) return r(r(minScale + maxScale) * 0.5);
  return r(minScale + (r(maxScale - minScale) * strideIndex) / (numStrides - 1));
}

/** The groups of layers, their feature maps and anchor shapes, in table order. */
export function anchorGroups(options: SsdAnchorsOptions, config: GenerateAnchorsConfig = {}): AnchorGroup[] {
  validateSsdAnchorsOptions(options);
  const r: Round = config.precision === 'float32' ? Math.fround : identity;
  const o = options;
  const minScale = r(o.minScale);
  const maxScale = r(o.maxScale);
  const numStrides = o.strides.length;
  const groups: AnchorGroup[] = [];
  let firstRow = 0;
  let layer = 0;
  while (layer < o.numLayers) {
    const scales: number[] = [];
    const ratios: number[] = [];
    let last = layer;
    while (last < numStrides && o.strides[last] === o.strides[layer]) {
      const scale = calculateScale(minScale, maxScale, last, numStrides, r);
      if (last === 0 && o.reduceBoxesInLowestLayer) {
        // MediaPipe's predefined lowest-layer boxes: a small square plus 2:1 and 1:2 at the layer's scale.
        ratios.push(1.0, 2.0, 0.5);
        scales.push(r(0.1), scale, scale);
      } else {
        for (const ratio of o.aspectRatios) {
          ratios.push(r(ratio));
          scales.push(scale);
        }
        if (o.interpolatedScaleAspectRatio > 0) {
          const next = last === numStrides - 1 ? 1.0 : calculateScale(minScale, maxScale, last + 1, numStrides, r);
          scales.push(r(Math.sqrt(r(scale * next))));
          ratios.push(r(o.interpolatedScaleAspectRatio));
        }
      }
      last++;
    }
    const shapes = ratios.map((aspectRatio, i): AnchorShape => {
      const ratioSqrt = r(Math.sqrt(aspectRatio));
      const scale = scales[i]!;
      return { scale, aspectRatio, width: r(scale * ratioSqrt), height: r(scale / ratioSqrt) };
    });
    if (shapes.length === 0) {
      throw new AnchorOptionsError(
        'aspectRatios',
        `is empty and interpolatedScaleAspectRatio is 0: layers ${layer}..${last - 1} would get no anchors`,
      );
    }
    const explicit = o.featureMapHeight.length > 0;
    // ceil(1.0f * input / stride) is exact in float for any realistic size (< 2^24).
    const featureMapHeight = explicit ? o.featureMapHeight[layer]! : Math.ceil(o.inputSizeHeight / o.strides[layer]!);
    const featureMapWidth = explicit ? o.featureMapWidth[layer]! : Math.ceil(o.inputSizeWidth / o.strides[layer]!);
    const rowCount = featureMapWidth * featureMapHeight * shapes.length;
    groups.push({
      firstLayer: layer,
      endLayer: last,
      stride: o.strides[layer]!,
      featureMapWidth,
      featureMapHeight,
      shapes,
      firstRow,
      rowCount,
    });
    firstRow += rowCount;
    layer = last;
  }
  return groups;
}

/** Number of anchors (rows) the options produce, without building the table. */
export function anchorCount(options: SsdAnchorsOptions): number {
  return anchorGroups(options).reduce((n, g) => n + g.rowCount, 0);
}

/** The anchor table, row-major [x_center, y_center, w, h] per anchor, in MediaPipe's order (group, y, x, shape). */
export function generateAnchors(options: SsdAnchorsOptions, config: GenerateAnchorsConfig = {}): Float64Array {
  const r: Round = config.precision === 'float32' ? Math.fround : identity;
  const groups = anchorGroups(options, config);
  const total = groups.reduce((n, g) => n + g.rowCount, 0);
  const out = new Float64Array(total * ANCHOR_ROW_LENGTH);
  const offsetX = r(options.anchorOffsetX);
  const offsetY = r(options.anchorOffsetY);
  let k = 0;
  for (const g of groups) {
    for (let y = 0; y < g.featureMapHeight; y++) {
      const yCenter = r(r(y + offsetY) / g.featureMapHeight);
      for (let x = 0; x < g.featureMapWidth; x++) {
        const xCenter = r(r(x + offsetX) / g.featureMapWidth);
        for (const shape of g.shapes) {
          out[k++] = xCenter;
          out[k++] = yCenter;
          out[k++] = options.fixedAnchorSize ? 1.0 : shape.width;
          out[k++] = options.fixedAnchorSize ? 1.0 : shape.height;
        }
      }
    }
  }
  return out;
}

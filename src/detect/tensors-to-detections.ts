// Port of MediaPipe's TensorsToDetectionsCalculator (mediapipe/calculators/tensor/
// tensors_to_detections_calculator.cc), CPU path, for models without built-in post-processing:
// clip logits to ±score_clipping_thresh, sigmoid, keep scores >= min_score_thresh, decode boxes
// and keypoints against SSD anchors (x_scale, y_scale, w_scale, h_scale; reverse_output_order
// means x, y, w, h). Arithmetic is float64 (MediaPipe and the seed use float32).
import type { RawOutputs } from '../backends/backend.js';
import { ToolkitError } from '../errors.js';
import type { TensorsToDetectionsOptions } from '../presets/types.js';

/**
 * Detections of one image, flat: `count` rows of `stride` numbers, row-major. A row is
 * ymin, xmin, ymax, xmax, then x, y per keypoint, then score (normalized model coordinates):
 * with 6 keypoints, the seed's 17 numbers in the seed's order.
 */
export interface Detections {
  readonly count: number;
  readonly stride: number;
  readonly values: Float64Array;
}

/** Numbers per detection row: 4 box coordinates, 2 per keypoint, 1 score. */
export function detectionStride(numKeypoints: number): number {
  return 4 + 2 * numKeypoints + 1;
}

/** Row `i` of `detections` as a plain array (the seed's 17 numbers for face models). */
export function detectionRow(detections: Detections, i: number): number[] {
  const start = i * detections.stride;
  return Array.from(detections.values.subarray(start, start + detections.stride));
}

export interface TensorsToDetectionsRunOptions {
  /** Which image of the batch to decode. */
  readonly batchIndex?: number;
  /** Overrides options.minScoreThresh. */
  readonly minScoreThresh?: number;
}

function checkShapes(raw: RawOutputs, anchors: Float64Array, options: TensorsToDetectionsOptions, batchIndex: number): void {
  const fail = (msg: string): never => {
    throw new ToolkitError('DECODE_SHAPE', `tensors-to-detections: ${msg}`);
  };
  if (options.numValuesPerKeypoint !== 2) fail(`numValuesPerKeypoint must be 2, got ${options.numValuesPerKeypoint}`);
  if (options.keypointCoordOffset + options.numKeypoints * 2 > options.numCoords || options.boxCoordOffset + 4 > options.numCoords) {
    fail(`box/keypoint offsets do not fit in numCoords ${options.numCoords}`);
  }
  if (raw.numAnchors !== options.numBoxes) fail(`model gives ${raw.numAnchors} boxes, preset expects ${options.numBoxes}`);
  if (raw.numCoords !== options.numCoords) fail(`model gives ${raw.numCoords} coords per box, preset expects ${options.numCoords}`);
  if (anchors.length !== options.numBoxes * 4) fail(`anchor table has ${anchors.length / 4} rows, expected ${options.numBoxes}`);
  if (raw.regressors.length !== raw.batch * raw.numAnchors * raw.numCoords) {
    fail(`regressors hold ${raw.regressors.length} values, expected ${raw.batch}x${raw.numAnchors}x${raw.numCoords}`);
  }
  if (raw.classificators.length !== raw.batch * raw.numAnchors * options.numClasses) {
    fail(`classificators hold ${raw.classificators.length} values, expected ${raw.batch}x${raw.numAnchors}x${options.numClasses}`);
  }
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= raw.batch) fail(`batch index ${batchIndex} outside [0, ${raw.batch})`);
}

/** max(c) sigmoid(clip(logit)) of one anchor (MediaPipe's "filter classes by scores" loop). */
function anchorScore(classificators: Float32Array | Float64Array, at: number, numClasses: number, sigmoidScore: boolean, clip: number): number {
  let best = -Number.MAX_VALUE;
  for (let c = 0; c < numClasses; c++) {
    let s = classificators[at + c]!;
    if (sigmoidScore) {
      s = s < -clip ? -clip : s > clip ? clip : s;
      s = 1 / (1 + Math.exp(-s));
    }
    if (s > best) best = s;
  }
  return best;
}

/**
 * Per-anchor scores of one image: max over classes of sigmoid(clip(logit)) (MediaPipe's
 * "filter classes by scores" loop; our face models have one class).
 */
export function anchorScores(
  classificators: Float32Array | Float64Array,
  options: TensorsToDetectionsOptions,
  batchIndex = 0,
): Float64Array {
  const { numBoxes, numClasses, sigmoidScore, scoreClippingThresh } = options;
  const clip = scoreClippingThresh > 0 ? scoreClippingThresh : Infinity;
  const base = batchIndex * numBoxes * numClasses;
  const scores = new Float64Array(numBoxes);
  for (let i = 0; i < numBoxes; i++) scores[i] = anchorScore(classificators, base + i * numClasses, numClasses, sigmoidScore, clip);
  return scores;
}

/**
 * Anchors whose score is at least `minScore`, in anchor order, with their scores. The sigmoid is
 * monotonic, so a logit clearly below logit(minScore) cannot pass: those anchors skip Math.exp (most of
 * them, on a photo; this was half of decode + NMS). The margin of 1e-6 in logit space is far wider than
 * the rounding of log and exp, and every anchor within it gets the exact test, so the result is the
 * same as scoring every anchor.
 */
function anchorsAbove(classificators: Float32Array | Float64Array, options: TensorsToDetectionsOptions, batchIndex: number, minScore: number): { kept: number[]; scores: number[] } {
  const { numBoxes, numClasses, sigmoidScore, scoreClippingThresh } = options;
  const clip = scoreClippingThresh > 0 ? scoreClippingThresh : Infinity;
  const base = batchIndex * numBoxes * numClasses;
  // Clipping raises logits below -clip to -clip: the prefilter is only sound above that.
  const logitBound = sigmoidScore && minScore > 0 && minScore < 1 ? Math.log(minScore / (1 - minScore)) - 1e-6 : -Infinity;
  const prefilter = logitBound > -clip ? logitBound : -Infinity;
  const kept: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < numBoxes; i++) {
    const at = base + i * numClasses;
    let maxLogit = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const l = classificators[at + c]!;
      if (!(l <= maxLogit)) maxLogit = l; // NaN goes to the exact test (where it fails)
    }
    if (maxLogit < prefilter) continue;
    const score = anchorScore(classificators, at, numClasses, sigmoidScore, clip);
    if (score >= minScore) {
      kept.push(i);
      scores.push(score);
    }
  }
  return { kept, scores };
}

/**
 * Decode one image of a batch into detections above the score threshold, in anchor order.
 * `anchors` rows are [x_center, y_center, w, h] (as generateAnchors returns them).
 */
export function tensorsToDetections(
  raw: RawOutputs,
  anchors: Float64Array,
  options: TensorsToDetectionsOptions,
  run: TensorsToDetectionsRunOptions = {},
): Detections {
  const batchIndex = run.batchIndex ?? 0;
  checkShapes(raw, anchors, options, batchIndex);
  const minScore = run.minScoreThresh ?? options.minScoreThresh;
  const { numBoxes, numCoords, numKeypoints, boxCoordOffset, keypointCoordOffset, xScale, yScale, wScale, hScale } = options;
  const stride = detectionStride(numKeypoints);
  // Score filter first so only surviving anchors are decoded (same result as decoding all).
  const { kept, scores } = anchorsAbove(raw.classificators, options, batchIndex, minScore);

  const reg = raw.regressors;
  const regBase = batchIndex * numBoxes * numCoords;
  const out = new Float64Array(kept.length * stride);
  let count = 0;
  for (let j = 0; j < kept.length; j++) {
    const i = kept[j]!;
    const ax = anchors[i * 4]!;
    const ay = anchors[i * 4 + 1]!;
    const aw = anchors[i * 4 + 2]!;
    const ah = anchors[i * 4 + 3]!;
    const r = regBase + i * numCoords;
    const b = r + boxCoordOffset;
    const [rx, ry, rw, rh] = options.reverseOutputOrder
      ? [reg[b]!, reg[b + 1]!, reg[b + 2]!, reg[b + 3]!]
      : [reg[b + 1]!, reg[b]!, reg[b + 3]!, reg[b + 2]!];
    const xc = (rx / xScale) * aw + ax;
    const yc = (ry / yScale) * ah + ay;
    const w = (rw / wScale) * aw;
    const h = (rh / hScale) * ah;
    // MediaPipe drops boxes with negative or NaN size (b/171391719); a NaN logit never passes the score test.
    if (!(w >= 0) || !(h >= 0)) continue;
    const o = count * stride;
    out[o] = yc - h / 2;
    out[o + 1] = xc - w / 2;
    out[o + 2] = yc + h / 2;
    out[o + 3] = xc + w / 2;
    for (let k = 0; k < numKeypoints; k++) {
      const kr = r + keypointCoordOffset + 2 * k;
      const [kx, ky] = options.reverseOutputOrder ? [reg[kr]!, reg[kr + 1]!] : [reg[kr + 1]!, reg[kr]!];
      out[o + 4 + 2 * k] = (kx / xScale) * aw + ax;
      out[o + 5 + 2 * k] = (ky / yScale) * ah + ay;
    }
    out[o + stride - 1] = scores[j]!;
    count++;
  }
  return { count, stride, values: count === kept.length ? out : out.slice(0, count * stride) };
}

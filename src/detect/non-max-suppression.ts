// Port of MediaPipe's NonMaxSuppressionCalculator (mediapipe/calculators/util/
// non_max_suppression_calculator.cc), algorithm WEIGHTED with overlap_type
// INTERSECTION_OVER_UNION, as the face detection graphs configure it.
//
// Two flavours of the weighted merge:
//  - 'mediapipe': the cluster's coordinates are the score-weighted mean, its score is the best score;
//  - 'blend':     the seed's (BlazeFace-PyTorch) variant: same coordinates, score = mean of the cluster's scores.
// A cluster is every remaining detection whose IoU with the best remaining one is > min_suppression_threshold.
// The best detection always belongs to its own cluster: MediaPipe stops the whole loop and the seed
// loops forever when a zero-area box does not overlap itself; we just emit it and carry on.
import type { Detections } from './tensors-to-detections.js';

export type NmsFlavour = 'blend' | 'mediapipe';
export const NMS_FLAVOURS: readonly NmsFlavour[] = ['blend', 'mediapipe'];

export interface WeightedNmsOptions {
  /** min_suppression_threshold: IoU strictly above this merges (0.3 in the face graphs and the seed). */
  readonly iouThreshold: number;
  readonly flavour: NmsFlavour;
  /** Keep at most this many merged detections (the highest reported scores); undefined or <= 0: no limit. */
  readonly maxDetections?: number;
}

/**
 * IoU of boxes stored as ymin, xmin, ymax, xmax at `values[a..]` and `values[b..]`, the way MediaPipe
 * computes it: 0 when the rectangles do not intersect or when the union area is not positive.
 */
export function intersectionOverUnion(values: ArrayLike<number>, a: number, b: number): number {
  const ay0 = values[a]!, ax0 = values[a + 1]!, ay1 = values[a + 2]!, ax1 = values[a + 3]!;
  const by0 = values[b]!, bx0 = values[b + 1]!, by1 = values[b + 2]!, bx1 = values[b + 3]!;
  const iw = Math.min(ax1, bx1) - Math.max(ax0, bx0);
  const ih = Math.min(ay1, by1) - Math.max(ay0, by0);
  if (iw < 0 || ih < 0) return 0;
  const inter = iw * ih;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Weighted non-maximum suppression over one image's detections. Clusters are formed best-score-first;
 * the merged rows come out sorted by the score they report (descending; ties keep cluster order), and
 * maxDetections keeps the highest reported scores. With 'blend' a cluster's mean score can rank below a
 * later cluster's, so every cluster is merged before sorting and cutting.
 */
export function weightedNonMaxSuppression(detections: Detections, options: WeightedNmsOptions): Detections {
  const { count, stride, values } = detections;
  const scoreAt = stride - 1;
  const limit = options.maxDetections && options.maxDetections > 0 ? options.maxDetections : Infinity;
  // Descending score; ties keep decode (anchor) order so results are deterministic.
  let remaining = Array.from({ length: count }, (_, i) => i).sort(
    (p, q) => values[q * stride + scoreAt]! - values[p * stride + scoreAt]! || p - q,
  );
  const clusters: Float64Array[] = [];
  const acc = new Float64Array(scoreAt);
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const rest: number[] = [];
    acc.fill(0);
    let totalScore = 0;
    let members = 0;
    for (const idx of remaining) {
      if (idx !== best && !(intersectionOverUnion(values, idx * stride, best * stride) > options.iouThreshold)) {
        rest.push(idx);
        continue;
      }
      const s = values[idx * stride + scoreAt]!;
      for (let c = 0; c < scoreAt; c++) acc[c]! += values[idx * stride + c]! * s;
      totalScore += s;
      members++;
    }
    const row = new Float64Array(stride);
    if (members > 1 && totalScore > 0) {
      for (let c = 0; c < scoreAt; c++) row[c] = acc[c]! / totalScore;
      row[scoreAt] = options.flavour === 'blend' ? totalScore / members : values[best * stride + scoreAt]!;
    } else {
      // A lone detection (or an all-zero-score cluster) is kept unchanged, as in both originals.
      row.set(values.subarray(best * stride, (best + 1) * stride));
    }
    clusters.push(row);
    remaining = rest;
  }
  // Array.prototype.sort is stable, so equal reported scores keep cluster order.
  const kept = clusters.sort((a, b) => b[scoreAt]! - a[scoreAt]!).slice(0, limit);
  const out = new Float64Array(kept.length * stride);
  kept.forEach((row, i) => out.set(row, i * stride));
  return { count: kept.length, stride, values: out };
}

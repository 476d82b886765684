import { describe, expect, it } from 'vitest';
import { intersectionOverUnion, weightedNonMaxSuppression } from '../src/detect/non-max-suppression.js';
import { detectionRow, type Detections } from '../src/detect/tensors-to-detections.js';

/** A detection row from a box (ymin, xmin, ymax, xmax), a keypoint offset pattern and a score. */
function det(box: [number, number, number, number], score: number, kp = 0): number[] {
  const kps = Array.from({ length: 12 }, (_, i) => kp + i / 100);
  return [...box, ...kps, score];
}
function dets(rows: number[][]): Detections {
  return { count: rows.length, stride: 17, values: Float64Array.from(rows.flat()) };
}
const rows = (d: Detections) => Array.from({ length: d.count }, (_, i) => detectionRow(d, i));

describe('intersectionOverUnion', () => {
  it('computes IoU from ymin, xmin, ymax, xmax and is 0 for disjoint or touching boxes', () => {
    const v = [0, 0, 1, 1, 0, 0.5, 1, 1.5, 0, 1, 1, 2, 5, 5, 6, 6];
    expect(intersectionOverUnion(v, 0, 4)).toBeCloseTo(0.5 / 1.5, 15);
    expect(intersectionOverUnion(v, 4, 0)).toBe(intersectionOverUnion(v, 0, 4));
    expect(intersectionOverUnion(v, 0, 8)).toBe(0); // touching edge
    expect(intersectionOverUnion(v, 0, 12)).toBe(0);
    expect(intersectionOverUnion(v, 0, 0)).toBe(1);
  });
  it('is 0 for zero-area boxes (MediaPipe: normalization must be > 0)', () => {
    expect(intersectionOverUnion([0.5, 0.5, 0.5, 0.5], 0, 0)).toBe(0);
  });
});

describe('weightedNonMaxSuppression', () => {
  // A and B overlap (IoU 0.9/1.1), C is far away; input is not sorted by score.
  const A = det([0, 0, 1, 1], 0.9, 0);
  const B = det([0, 0.1, 1, 1.1], 0.6, 1);
  const C = det([3, 3, 4, 4], 0.7, 2);
  const input = dets([B, C, A]);

  it("'blend' (the seed's): score-weighted coordinates, mean score", () => {
    const out = rows(weightedNonMaxSuppression(input, { iouThreshold: 0.3, flavour: 'blend' }));
    expect(out).toHaveLength(2);
    const [m, c] = out as [number[], number[]];
    const expected = A.slice(0, 16).map((a, i) => (a * 0.9 + B[i]! * 0.6) / 1.5);
    m.slice(0, 16).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14));
    expect(m[1]).toBeCloseTo(0.04, 14);
    expect(m[3]).toBeCloseTo(1.04, 14);
    expect(m[4]).toBeCloseTo(0.6 / 1.5, 14); // keypoint x: (0*0.9 + 1*0.6) / 1.5
    expect(m[16]).toBeCloseTo(0.75, 15);
    expect(c).toEqual(C); // a lone detection passes unchanged
  });

  it("'mediapipe' (WEIGHTED): same coordinates, best score", () => {
    const blend = rows(weightedNonMaxSuppression(input, { iouThreshold: 0.3, flavour: 'blend' }));
    const mp = rows(weightedNonMaxSuppression(input, { iouThreshold: 0.3, flavour: 'mediapipe' }));
    expect(mp[0]!.slice(0, 16)).toEqual(blend[0]!.slice(0, 16));
    expect(mp[0]![16]).toBe(0.9);
    expect(mp[1]).toEqual(C);
  });

  it('merges only above the threshold (strictly greater)', () => {
    // IoU of these two is exactly 0.5.
    const pair = dets([det([0, 0, 1, 1], 0.9), det([0, 0, 1, 0.5], 0.8)]);
    expect(weightedNonMaxSuppression(pair, { iouThreshold: 0.5, flavour: 'blend' }).count).toBe(2);
    expect(weightedNonMaxSuppression(pair, { iouThreshold: 0.49, flavour: 'blend' }).count).toBe(1);
  });

  it('clusters around the best remaining detection, not transitively', () => {
    // B overlaps both A and D, but A and D do not overlap: A takes B, D stays on its own.
    const a = det([0, 0, 1, 1], 0.95);
    const b = det([0, 0.4, 1, 1.4], 0.9);
    const d = det([0, 0.8, 1, 1.8], 0.85);
    const out = rows(weightedNonMaxSuppression(dets([d, b, a]), { iouThreshold: 0.3, flavour: 'mediapipe' }));
    expect(out).toHaveLength(2);
    expect(out[0]![16]).toBe(0.95);
    expect(out[1]).toEqual(d);
  });

  it('orders output by score and honours maxDetections', () => {
    const three = dets([det([0, 0, 1, 1], 0.6), det([2, 2, 3, 3], 0.9), det([4, 4, 5, 5], 0.8)]);
    const all = rows(weightedNonMaxSuppression(three, { iouThreshold: 0.3, flavour: 'blend' }));
    expect(all.map((r) => r[16])).toEqual([0.9, 0.8, 0.6]);
    const two = rows(weightedNonMaxSuppression(three, { iouThreshold: 0.3, flavour: 'blend', maxDetections: 2 }));
    expect(two.map((r) => r[16])).toEqual([0.9, 0.8]);
  });

  it("sorts by the reported score: a 'blend' cluster's mean can rank below a later, lone detection", () => {
    // Cluster 1: 0.95 + 0.55 overlapping (mean 0.75); a lone 0.9 elsewhere. Seeds come 0.95 first, but
    // the reported scores are 0.75 and 0.9, so the lone face comes first, and maxDetections 1 keeps it.
    const input = dets([det([0, 0, 1, 1], 0.95), det([0, 0.05, 1, 1.05], 0.55), det([4, 4, 5, 5], 0.9)]);
    const all = rows(weightedNonMaxSuppression(input, { iouThreshold: 0.3, flavour: 'blend' }));
    expect(all.map((r) => r[16])).toHaveLength(2);
    expect(all[0]![16]).toBe(0.9);
    expect(all[1]![16]).toBeCloseTo(0.75, 12);
    const one = rows(weightedNonMaxSuppression(input, { iouThreshold: 0.3, flavour: 'blend', maxDetections: 1 }));
    expect(one.map((r) => r[16])).toEqual([0.9]);
    // 'mediapipe' reports the best score, so the same input keeps seed order.
    const mp = rows(weightedNonMaxSuppression(input, { iouThreshold: 0.3, flavour: 'mediapipe', maxDetections: 1 }));
    expect(mp.map((r) => r[16])).toEqual([0.95]);
  });

  it('emits a zero-area best detection and continues with the rest', () => {
    const out = rows(weightedNonMaxSuppression(dets([det([0.5, 0.5, 0.5, 0.5], 0.99), det([0, 0, 1, 1], 0.8)]), { iouThreshold: 0.3, flavour: 'blend' }));
    expect(out.map((r) => r[16])).toEqual([0.99, 0.8]);
  });

  it('returns nothing for no input', () => {
    expect(weightedNonMaxSuppression(dets([]), { iouThreshold: 0.3, flavour: 'blend' }).count).toBe(0);
  });
});

// compareOutputs on in-memory outputs: statistics, where the worst element is, and the failure messages.
import { describe, expect, it } from 'vitest';
import type { RawOutputs } from '../src/backends/backend.js';
import { compareDetections, compareOutputs, DEFAULT_TOLERANCES, fmt } from '../src/verify/compare.js';
import type { DetectionRecord } from '../src/verify/report-types.js';
import { mulberry32 } from '../src/util/random.js';

const A = 896;
const C = 16;
const NAMES = ['1face.png', '3faces.png', 'random-0'];

function outputs(batch: number, seed: number): RawOutputs {
  const next = mulberry32(seed);
  const regressors = new Float64Array(batch * A * C).map(() => (next() - 0.5) * 200);
  const classificators = new Float64Array(batch * A).map(() => (next() - 0.5) * 40);
  return { regressors, classificators, batch, numAnchors: A, numCoords: C };
}

function asFloat32(raw: RawOutputs): { regressors: Float32Array; classificators: Float32Array } & RawOutputs {
  return { ...raw, regressors: Float32Array.from(raw.regressors), classificators: Float32Array.from(raw.classificators) };
}

const ctx = { preset: 'short_range', backend: 'onnxruntime-web' };

describe('compareOutputs', () => {
  it('passes float32 rounding of the reference and reports tiny errors', () => {
    const ref = outputs(3, 1);
    const cmp = compareOutputs(ref, asFloat32(ref), NAMES, DEFAULT_TOLERANCES, ctx);
    expect(cmp.pass).toBe(true);
    expect(cmp.failures).toEqual([]);
    for (const r of cmp.inputs) {
      expect(r.regressors.maxErr!).toBeGreaterThan(0);
      expect(r.regressors.maxErr!).toBeLessThan(1e-7);
      expect(r.regressors.maxAbs!).toBeLessThan(1e-5);
    }
    expect(cmp.inputs.map((r) => r.input)).toEqual(NAMES);
  });

  it('names preset, backend, input, tensor and [0, anchor, coord] of the worst element', () => {
    const ref = outputs(3, 2);
    const got = asFloat32(ref);
    const i = 1 * A * C + 512 * C + 3;
    got.regressors[i] = ref.regressors[i]! + 0.02 * (1 + Math.abs(ref.regressors[i]!));
    // A smaller error elsewhere in the same input must not be the one reported.
    got.regressors[1 * A * C + 7 * C + 1] = ref.regressors[1 * A * C + 7 * C + 1]! + 0.001 * (1 + Math.abs(ref.regressors[1 * A * C + 7 * C + 1]!));
    const cmp = compareOutputs(ref, got, NAMES, DEFAULT_TOLERANCES, ctx);
    expect(cmp.pass).toBe(false);
    expect(cmp.failures).toHaveLength(1);
    expect(cmp.failures[0]).toMatch(/^short_range \/ onnxruntime-web \/ 3faces\.png \/ regressors\[0, 512, 3\]: \|diff\| \S+ > 1e-4\*\(1\+\|ref\|\)/);
    expect(cmp.failures[0]).toContain('2 of 14336 values out of tolerance');
    const bad = cmp.inputs[1]!;
    expect(bad.pass).toBe(false);
    expect(bad.regressors.at).toEqual({ anchor: 512, coord: 3 });
    expect(bad.regressors.maxErr!).toBeCloseTo(0.02, 6);
    expect(bad.classificators.pass).toBe(true);
    expect(cmp.inputs[0]!.pass).toBe(true);
    expect(cmp.inputs[2]!.pass).toBe(true);
  });

  it('max_err is relative to 1+|ref|; max_rel skips near-zero references', () => {
    const ref: RawOutputs = { regressors: new Float64Array(C), classificators: Float64Array.from([1000]), batch: 1, numAnchors: 1, numCoords: C };
    const got: RawOutputs = { ...ref, regressors: new Float32Array(C), classificators: Float32Array.from([1000.05]) };
    (got.regressors as Float32Array)[5] = 5e-5; // ref 0: err 5e-5, inside tolerance; rel would be infinite
    const cmp = compareOutputs(ref, got, ['x'], DEFAULT_TOLERANCES, ctx);
    const r = cmp.inputs[0]!;
    expect(r.classificators.maxAbs!).toBeCloseTo(0.05, 3);
    expect(r.classificators.maxErr!).toBeCloseTo(0.05 / 1001, 6);
    expect(r.classificators.maxRel!).toBeCloseTo(0.05 / 1000, 6);
    expect(r.regressors.maxRel).toBe(0);
    expect(r.regressors.maxErr!).toBeCloseTo(5e-5, 9);
    expect(cmp.pass).toBe(true);
    expect(compareOutputs(ref, got, ['x'], { ...DEFAULT_TOLERANCES, rawMaxErr: 1e-5 }, ctx).pass).toBe(false);
  });

  it('fails on NaN and names the element', () => {
    const ref = outputs(3, 3);
    const got = asFloat32(ref);
    got.classificators[2 * A + 100] = NaN;
    const cmp = compareOutputs(ref, got, NAMES, DEFAULT_TOLERANCES, ctx);
    expect(cmp.pass).toBe(false);
    expect(cmp.inputs[2]!.classificators.maxErr).toBeNull();
    expect(cmp.failures[0]).toMatch(/^short_range \/ onnxruntime-web \/ random-0 \/ classificators\[0, 100, 0\]: non-finite value \(got NaN/);
  });

  it('fails on a shape mismatch without reading out of bounds', () => {
    const ref = outputs(2, 4);
    const got = outputs(1, 4);
    const cmp = compareOutputs(ref, got, NAMES.slice(0, 2), DEFAULT_TOLERANCES, ctx);
    expect(cmp.pass).toBe(false);
    expect(cmp.failures[0]).toContain('short_range / onnxruntime-web / regressors: shape [1, 896, 16]');
    expect(cmp.inputs.every((r) => !r.pass)).toBe(true);
  });

  it('compares decoded detections when given a decoder', () => {
    const ref = outputs(2, 5);
    const got = asFloat32(ref);
    const face = (dx: number, score: number): DetectionRecord => ({
      box: [0.2, 0.3 + dx, 0.6, 0.7 + dx],
      keypoints: Array.from({ length: 6 }, (_, k) => [0.4 + k * 0.01 + dx, 0.4] as [number, number]),
      score,
    });
    // The decoder sees which output it is decoding: Float64 = reference, Float32 = backend.
    const decode = (raw: RawOutputs) =>
      raw.regressors instanceof Float64Array ? [[face(0, 0.9)], [face(0, 0.8)]] : [[face(3e-5, 0.9)], [face(0, 0.8), face(0.5, 0.7)]];
    const cmp = compareOutputs(ref, got, ['1face.png', '3faces.png'], DEFAULT_TOLERANCES, { ...ctx, decode });
    expect(cmp.pass).toBe(false);
    expect(cmp.inputs[0]!.detections).toMatchObject({ refCount: 1, gotCount: 1, countEqual: true, pass: false });
    expect(cmp.inputs[0]!.detections!.maxCoordDiff).toBeCloseTo(3e-5, 9);
    expect(cmp.inputs[1]!.detections).toMatchObject({ refCount: 1, gotCount: 2, countEqual: false, minIoU: 1, pass: false });
    expect(cmp.failures).toEqual([
      expect.stringMatching(/^short_range \/ onnxruntime-web \/ 1face\.png \/ detections\[0\]\.xmin: \|diff\| 3e-5 > 1e-5/),
      'short_range / onnxruntime-web / 3faces.png / detections: 2 faces, reference 1 (unmatched scores 0.7)',
    ]);
    expect(cmp.gotDetections![1]).toHaveLength(2);
  });
});

describe('compareDetections', () => {
  const f = (y: number, s: number): DetectionRecord => ({ box: [y, 0.1, y + 0.2, 0.3], keypoints: [[0.2, y + 0.1]], score: s });

  it('matches faces by IoU regardless of order', () => {
    const d = compareDetections([f(0.1, 0.9), f(0.6, 0.8)], [f(0.6, 0.8 + 2e-6), f(0.1, 0.9)], DEFAULT_TOLERANCES);
    expect(d.failures).toEqual([]);
    expect(d.agreement).toMatchObject({ countEqual: true, minIoU: 1, maxCoordDiff: 0, pass: true });
    expect(d.agreement.maxScoreDiff).toBeCloseTo(2e-6, 12);
  });

  it('reports a reference face with no overlapping backend face', () => {
    const d = compareDetections([f(0.1, 0.9)], [f(0.6, 0.9)], DEFAULT_TOLERANCES, 'p / b / x / ');
    expect(d.agreement.pass).toBe(false);
    expect(d.agreement.minIoU).toBeNull();
    expect(d.failures).toEqual(['p / b / x / detections[0]: reference face (score 0.9) has no overlapping face']);
  });

  it('names the keypoint coordinate that differs', () => {
    const g = f(0.1, 0.9);
    g.keypoints[0]![1] += 1e-3;
    const d = compareDetections([f(0.1, 0.9)], [g], DEFAULT_TOLERANCES);
    expect(d.failures[0]).toMatch(/^detections\[0\]\.right eye\.y: \|diff\| 0\.001 > 1e-5/);
  });
});

describe('fmt', () => {
  it('formats numbers compactly', () => {
    expect(fmt(0.02)).toBe('0.02');
    expect(fmt(3.14159e-6)).toBe('3.14e-6');
    expect(fmt(3e-5)).toBe('3e-5');
    expect(fmt(0)).toBe('0');
    expect(fmt(123.456)).toBe('123');
  });
});

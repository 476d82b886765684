import { describe, expect, it } from 'vitest';
import { generateAnchors } from '../src/anchors/ssd-anchors-calculator.js';
import type { RawOutputs } from '../src/backends/backend.js';
import { decodeDetections } from '../src/detect/decode.js';
import { anchorScores, detectionRow, tensorsToDetections } from '../src/detect/tensors-to-detections.js';
import { mulberry32 } from '../src/util/random.js';
import { PRESETS } from '../src/presets/index.js';
import type { TensorsToDetectionsOptions } from '../src/presets/types.js';

const OPTS: TensorsToDetectionsOptions = { ...PRESETS.short_range.decode, numBoxes: 3, minScoreThresh: 0.5 };
// Rows [x_center, y_center, w, h].
const ANCHORS = Float64Array.from([0.5, 0.5, 1, 1, 0.25, 0.75, 1, 1, 0.1, 0.1, 0.5, 0.5]);

function raw(regs: number[][], logits: number[], batch = 1, Arr: typeof Float64Array | typeof Float32Array = Float64Array): RawOutputs {
  const numAnchors = logits.length / batch;
  const regressors = new Arr(batch * numAnchors * 16);
  regs.forEach((r, i) => regressors.set(r, i * 16));
  return { regressors, classificators: Arr.from(logits), batch, numAnchors, numCoords: 16 };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('tensorsToDetections', () => {
  it('decodes x, y, w, h and keypoints against the anchor (reverse_output_order)', () => {
    // Anchor 0: xc = 12.8/128 + 0.5 = 0.6, yc = -6.4/128 + 0.5 = 0.45, w = 0.2, h = 0.4.
    const kps = [0, 0, 12.8, 0, 0, 12.8, -12.8, -12.8, 64, 0, 0, 64];
    const d = tensorsToDetections(raw([[12.8, -6.4, 25.6, 51.2, ...kps]], [2, -5, -5]), ANCHORS, OPTS);
    expect(d.count).toBe(1);
    expect(d.stride).toBe(17);
    const row = detectionRow(d, 0);
    const expected = [0.25, 0.5, 0.65, 0.7, 0.5, 0.5, 0.6, 0.5, 0.5, 0.6, 0.4, 0.4, 1.0, 0.5, 0.5, 1.0, sigmoid(2)];
    row.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('scales by the anchor size and offsets by the anchor centre', () => {
    const d = tensorsToDetections(raw([[], [], [12.8, 12.8, 128, 64, 128, 0]], [-9, -9, 9]), ANCHORS, OPTS);
    const row = detectionRow(d, 0);
    // xc = 0.1*0.5 + 0.1 = 0.15, yc = 0.15, w = 0.5, h = 0.25; keypoint 0 x = 1*0.5 + 0.1, y = 0.1.
    [0.025, -0.1, 0.275, 0.4, 0.6, 0.1].forEach((v, i) => expect(row[i]).toBeCloseTo(v, 12));
  });

  it('reads y, x, h, w when reverseOutputOrder is false', () => {
    const opts = { ...OPTS, reverseOutputOrder: false };
    const d = tensorsToDetections(raw([[-6.4, 12.8, 51.2, 25.6, 12.8, 0]], [3, -9, -9]), ANCHORS, opts);
    const row = detectionRow(d, 0);
    [0.25, 0.5, 0.65, 0.7, 0.5, 0.6].forEach((v, i) => expect(row[i]).toBeCloseTo(v, 12));
  });

  it('clips logits to ±scoreClippingThresh before the sigmoid', () => {
    const d = tensorsToDetections(raw([[], [], []], [1000, -1000, 0]), ANCHORS, OPTS, { minScoreThresh: 0 });
    expect(d.count).toBe(3);
    const scores = [0, 1, 2].map((i) => detectionRow(d, i)[16]);
    expect(scores[0]).toBe(1 / (1 + Math.exp(-100)));
    // Unclipped, sigmoid(-1000) underflows to exactly 0.
    expect(scores[1]).toBe(1 / (1 + Math.exp(100)));
    expect(scores[1]).toBeGreaterThan(0);
    expect(scores[2]).toBe(0.5);
  });

  it('keeps scores >= threshold, drops those below', () => {
    expect(tensorsToDetections(raw([[], [], []], [0, -1, 1]), ANCHORS, OPTS, { minScoreThresh: 0.5 }).count).toBe(2);
    expect(tensorsToDetections(raw([[], [], []], [0, -1, 1]), ANCHORS, OPTS, { minScoreThresh: 0.5000001 }).count).toBe(1);
    // The preset's own threshold applies when no override is given (0.5 here).
    expect(tensorsToDetections(raw([[], [], []], [0, -1, 1]), ANCHORS, OPTS).count).toBe(2);
  });

  it('drops NaN scores and boxes of negative size, as MediaPipe does', () => {
    const d = tensorsToDetections(raw([[0, 0, -12.8, 12.8], [0, 0, 12.8, 12.8], []], [5, 5, Number.NaN]), ANCHORS, OPTS);
    expect(d.count).toBe(1);
    expect(detectionRow(d, 0)[1]).toBeCloseTo(0.25 - 0.05, 12);
  });

  it('decodes the requested image of a batch', () => {
    const r = raw([[], [], [], [], [12.8, 0, 0, 0], []], [-9, -9, -9, -9, 4, -9], 2);
    expect(tensorsToDetections(r, ANCHORS, OPTS, { batchIndex: 0 }).count).toBe(0);
    const d = tensorsToDetections(r, ANCHORS, OPTS, { batchIndex: 1 });
    expect(d.count).toBe(1);
    expect(detectionRow(d, 0)[1]).toBeCloseTo(0.35, 12);
    expect(() => tensorsToDetections(r, ANCHORS, OPTS, { batchIndex: 2 })).toThrow(/batch index 2/);
  });

  it('gives the same rows for Float32Array and Float64Array outputs with float32-exact values', () => {
    const regs = [[12.5, -6.25, 25, 50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]];
    const a = tensorsToDetections(raw(regs, [2, -9, -9], 1, Float32Array), ANCHORS, OPTS);
    const b = tensorsToDetections(raw(regs, [2, -9, -9], 1, Float64Array), ANCHORS, OPTS);
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
  });

  it('keeps exactly the anchors whose score passes (the logit prefilter changes nothing), also at the threshold, with clipping and 2 classes', () => {
    const rand = mulberry32(7);
    const n = 400;
    const anchors = new Float64Array(n * 4).fill(0.5);
    for (const [minScore, clip, numClasses] of [[0.5, 100, 1], [0.75, 100, 1], [0.1, 1, 1], [0.6, 0.3, 1], [1e-9, 100, 1], [1, 100, 1], [0.5, 100, 2], [0, 100, 1]] as const) {
      const logitAt = Math.log(minScore / (1 - minScore));
      const logits = Array.from({ length: n * numClasses }, (_, i) => {
        const k = i % 5;
        // exact threshold logits and their float neighbours, huge values, NaN, and ordinary ones
        if (k === 0 && Number.isFinite(logitAt)) return logitAt + (rand() - 0.5) * 1e-12;
        if (k === 1) return (rand() - 0.5) * 400;
        if (i === 3) return Number.NaN;
        return (rand() - 0.5) * 12;
      });
      const opts: TensorsToDetectionsOptions = { ...OPTS, numBoxes: n, numClasses, scoreClippingThresh: clip, minScoreThresh: minScore };
      const r: RawOutputs = { regressors: new Float64Array(n * 16).fill(1), classificators: Float64Array.from(logits), batch: 1, numAnchors: n, numCoords: 16 };
      const scores = anchorScores(r.classificators, opts);
      const expected = [...scores].filter((s) => s >= minScore);
      const d = tensorsToDetections(r, anchors, opts);
      const got = Array.from({ length: d.count }, (_, i) => d.values[i * d.stride + d.stride - 1]!);
      expect(got, `minScore ${minScore}, clip ${clip}, ${numClasses} class(es)`).toEqual(expected);
    }
  });

  it('rejects outputs that do not match the preset or the anchors', () => {
    expect(() => tensorsToDetections(raw([[]], [0, 0]), ANCHORS, OPTS)).toThrow(/2 boxes, preset expects 3/);
    expect(() => tensorsToDetections(raw([[]], [0, 0, 0]), ANCHORS.subarray(0, 8), OPTS)).toThrow(/anchor table/);
  });
});

describe('decodeDetections with a real preset', () => {
  it('places a detection on its anchor of the generated table and merges duplicates', () => {
    const preset = PRESETS.short_range;
    const anchors = generateAnchors(preset.anchors);
    const n = preset.decode.numBoxes;
    const regressors = new Float32Array(2 * n * 16);
    const classificators = new Float32Array(2 * n).fill(-20);
    // Image 1: anchor 100 (16x16 grid, stride 8) with a 0.25-wide box; anchor 101 shares the cell.
    for (const a of [100, 101]) {
      regressors.set([0, 0, 32, 32], (n + a) * 16);
      classificators[n + a] = a === 100 ? 4 : 3;
    }
    const [first, second] = decodeDetections({ regressors, classificators, batch: 2, numAnchors: n, numCoords: 16 }, anchors, preset);
    expect(first!.count).toBe(0);
    expect(second!.count).toBe(1);
    const row = detectionRow(second!, 0);
    const xc = anchors[100 * 4]!;
    const yc = anchors[100 * 4 + 1]!;
    expect((row[1]! + row[3]!) / 2).toBeCloseTo(xc, 12);
    expect((row[0]! + row[2]!) / 2).toBeCloseTo(yc, 12);
    expect(row[3]! - row[1]!).toBeCloseTo(0.25, 12);
    // The default NMS scoring is the preset's: MediaPipe's models report the cluster's best score
    // (this used to default to the seed's 'blend' mean for every preset, which gave MediaPipe's models
    // lower scores than MediaPipe itself reports).
    expect(preset.nms.flavour).toBe('mediapipe');
    expect(row[16]).toBeCloseTo(sigmoid(4), 6);
    const blend = decodeDetections({ regressors, classificators, batch: 2, numAnchors: n, numCoords: 16 }, anchors, preset, { nms: 'blend' });
    expect(detectionRow(blend[1]!, 0)[16]).toBeCloseTo((sigmoid(4) + sigmoid(3)) / 2, 6);
    // The seed's own presets keep the seed's mean score by default.
    expect(PRESETS.front.nms.flavour).toBe('blend');
    expect(PRESETS.back.nms.flavour).toBe('blend');
  });
});

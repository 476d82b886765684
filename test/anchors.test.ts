import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACE_DETECTION_CONFIG, GOLDEN_CONFIGS, MOBILE_SSD_CONFIG } from '../src/anchors/golden-configs.js';
import { compareAnchorTables, referenceAnchors } from '../src/anchors/reference-anchors.js';
import {
  AnchorOptionsError,
  anchorCount,
  anchorGroups,
  generateAnchors,
} from '../src/anchors/ssd-anchors-calculator.js';
import { seedDir } from '../src/fixtures.js';
import { decodeNpy, encodeNpy } from '../src/npy.js';
import { PRESETS } from '../src/presets/index.js';
import type { SsdAnchorsOptions } from '../src/presets/types.js';

const TOL = 1e-6;
const SQRT2 = Math.SQRT2;

function row(table: Float64Array, i: number): number[] {
  return Array.from(table.subarray(i * 4, i * 4 + 4));
}

function expectRow(table: Float64Array, i: number, expected: number[]): void {
  const actual = row(table, i);
  actual.forEach((v, j) => expect(v, `row ${i} col ${j}: ${actual} vs ${expected}`).toBeCloseTo(expected[j]!, 6));
}

const base: SsdAnchorsOptions = {
  inputSizeWidth: 64,
  inputSizeHeight: 64,
  minScale: 0.2,
  maxScale: 0.8,
  anchorOffsetX: 0.5,
  anchorOffsetY: 0.5,
  numLayers: 2,
  featureMapWidth: [],
  featureMapHeight: [],
  strides: [8, 16],
  aspectRatios: [1.0],
  reduceBoxesInLowestLayer: false,
  interpolatedScaleAspectRatio: 1.0,
  fixedAnchorSize: false,
};

describe('MediaPipe ssd_anchors_calculator_test configs', () => {
  for (const golden of GOLDEN_CONFIGS) {
    describe(golden.testName, () => {
      const table = generateAnchors(golden.options);

      it(`has ${golden.expectedCount} anchors in the hand-derived groups`, () => {
        expect(table.length / 4).toBe(golden.expectedCount);
        expect(anchorCount(golden.options)).toBe(golden.expectedCount);
        const groups = anchorGroups(golden.options);
        expect(
          groups.map((g) => ({
            layers: Array.from({ length: g.endLayer - g.firstLayer }, (_, k) => g.firstLayer + k),
            featureMap: g.featureMapWidth,
            anchorsPerCell: g.shapes.length,
          })),
        ).toEqual(golden.expectedGroups);
        let first = 0;
        for (const g of groups) {
          expect(g.firstRow).toBe(first);
          expect(g.featureMapHeight).toBe(g.featureMapWidth);
          expect(g.rowCount).toBe(g.featureMapWidth * g.featureMapHeight * g.shapes.length);
          first += g.rowCount;
        }
      });

      it('matches the independent formulation within 1e-6 on every row (float64 and float32)', () => {
        const ref = referenceAnchors(golden.options);
        expect(compareAnchorTables(table, ref, TOL)).toMatchObject({ rowsA: golden.expectedCount, rowsB: golden.expectedCount, rowsDiffering: 0 });
        const t32 = generateAnchors(golden.options, { precision: 'float32' });
        expect(compareAnchorTables(t32, ref, TOL).rowsDiffering).toBe(0);
      });
    });
  }

  it('FaceDetectionConfig: hand-computed rows at group boundaries and the per-layer scales', () => {
    const t = generateAnchors(FACE_DETECTION_CONFIG.options);
    expectRow(t, 0, [1 / 64, 1 / 64, 1, 1]);
    expectRow(t, 1, [1 / 64, 1 / 64, 1, 1]);
    expectRow(t, 2, [3 / 64, 1 / 64, 1, 1]);
    expectRow(t, 64, [1 / 64, 3 / 64, 1, 1]); // second row of the 32x32 map (2 anchors per cell)
    expectRow(t, 2047, [63 / 64, 63 / 64, 1, 1]);
    expectRow(t, 2048, [1 / 32, 1 / 32, 1, 1]);
    expectRow(t, 2559, [31 / 32, 31 / 32, 1, 1]);
    for (let k = 2560; k < 2566; k++) expectRow(t, k, [1 / 16, 1 / 16, 1, 1]);
    expectRow(t, 2943, [15 / 16, 15 / 16, 1, 1]);
    // fixed_anchor_size hides the shapes; check the scales: 0.1171875 + 0.6328125 * i / 4, interleaved with sqrt(s_i * s_{i+1}).
    const groups = anchorGroups(FACE_DETECTION_CONFIG.options);
    const scales = groups.map((g) => g.shapes.map((s) => s.scale));
    const expected = [
      [0.1171875, 0.1796450357],
      [0.275390625, 0.3455541257],
      [0.43359375, 0.5065564394, 0.591796875, 0.6662189252, 0.75, 0.8660254038],
    ];
    scales.forEach((list, g) => list.forEach((s, k) => expect(s).toBeCloseTo(expected[g]![k]!, 9)));
  });

  it('MobileSSDConfig: hand-computed rows (reduced lowest layer, 5 ratios + interpolated)', () => {
    const t = generateAnchors(MOBILE_SSD_CONFIG.options);
    const c0 = 0.5 / 19;
    expectRow(t, 0, [c0, c0, 0.1, 0.1]);
    expectRow(t, 1, [c0, c0, 0.2 * SQRT2, 0.2 / SQRT2]);
    expectRow(t, 2, [c0, c0, 0.2 / SQRT2, 0.2 * SQRT2]);
    expectRow(t, 3, [1.5 / 19, c0, 0.1, 0.1]);
    expectRow(t, 1082, [18.5 / 19, 18.5 / 19, 0.1414213562, 0.2828427125]);
    // Layer 1: 10x10, scale 0.2 + 0.75 / 5 = 0.35; next scale 0.5.
    expectRow(t, 1083, [0.05, 0.05, 0.35, 0.35]);
    expectRow(t, 1084, [0.05, 0.05, 0.4949747468, 0.2474873734]);
    expectRow(t, 1085, [0.05, 0.05, 0.2474873734, 0.4949747468]);
    expectRow(t, 1086, [0.05, 0.05, 0.6062177826, 0.2020725942]);
    expectRow(t, 1087, [0.05, 0.05, 0.2020624903, 0.6062480958]);
    expectRow(t, 1088, [0.05, 0.05, 0.4183300133, 0.4183300133]);
    expectRow(t, 1089, [0.15, 0.05, 0.35, 0.35]);
    // Last layer: one cell, scale 0.95, interpolated with 1.0.
    expectRow(t, 1911, [0.5, 0.5, 0.95, 0.95]);
    expectRow(t, 1912, [0.5, 0.5, 1.3435028843, 0.6717514421]);
    expectRow(t, 1915, [0.5, 0.5, 0.5484553309, 1.6455305458]);
    expectRow(t, 1916, [0.5, 0.5, 0.9746794345, 0.9746794345]);
  });
});

describe('presets', () => {
  const expectedCounts: Record<string, number> = { short_range: 896, front: 896, back: 896, full_range: 2304, full_range_sparse: 2304 };
  for (const [name, preset] of Object.entries(PRESETS)) {
    it(`${name}: ${expectedCounts[name]} anchors, equal to the independent formulation, w = h = 1`, () => {
      const t = generateAnchors(preset.anchors);
      expect(t.length / 4).toBe(expectedCounts[name]);
      expect(anchorCount(preset.anchors)).toBe(expectedCounts[name]);
      expect(preset.decode.numBoxes).toBe(expectedCounts[name]);
      expect(compareAnchorTables(t, referenceAnchors(preset.anchors), 0).rowsDiffering).toBe(0);
      for (let i = 0; i < t.length / 4; i++) expect(t[i * 4 + 2] === 1 && t[i * 4 + 3] === 1).toBe(true);
    });
  }

  it('front: first anchors are the 16x16 map with two anchors per cell, then 8x8 with six', () => {
    const t = generateAnchors(PRESETS.front.anchors);
    expectRow(t, 0, [1 / 32, 1 / 32, 1, 1]);
    expectRow(t, 1, [1 / 32, 1 / 32, 1, 1]);
    expectRow(t, 2, [3 / 32, 1 / 32, 1, 1]);
    expectRow(t, 511, [31 / 32, 31 / 32, 1, 1]);
    for (let k = 512; k < 518; k++) expectRow(t, k, [1 / 16, 1 / 16, 1, 1]);
    expectRow(t, 895, [15 / 16, 15 / 16, 1, 1]);
  });

  it('full_range: one 48x48 map, one anchor per cell (interpolated anchor off), scale (min+max)/2 for one layer', () => {
    const t = generateAnchors(PRESETS.full_range.anchors);
    expectRow(t, 0, [0.5 / 48, 0.5 / 48, 1, 1]);
    expectRow(t, 1, [1.5 / 48, 0.5 / 48, 1, 1]);
    expectRow(t, 48, [0.5 / 48, 1.5 / 48, 1, 1]);
    expectRow(t, 2303, [47.5 / 48, 47.5 / 48, 1, 1]);
    const [g] = anchorGroups(PRESETS.full_range.anchors);
    expect(g!.shapes).toEqual([{ scale: 0.44921875, aspectRatio: 1, width: 0.44921875, height: 0.44921875 }]);
    // With the interpolated anchor on, a single layer's "next" scale is 1.0.
    const [g2] = anchorGroups({ ...PRESETS.full_range.anchors, interpolatedScaleAspectRatio: 1 });
    expect(g2!.shapes[1]!.scale).toBeCloseTo(Math.sqrt(0.44921875), 12);
  });

  const seed = seedDir();
  const needs = seed ? '' : ' [skipped: needs ../shared/seed]';
  it.skipIf(!seed)(`front table is byte-identical to the seed's anchors.npy${needs}`, () => {
    const t = generateAnchors(PRESETS.front.anchors);
    const bytes = encodeNpy(t, [t.length / 4, 4]);
    const seedBytes = new Uint8Array(readFileSync(path.join(seed!, 'anchors.npy')));
    expect(Buffer.from(bytes).equals(Buffer.from(seedBytes))).toBe(true);
  });
  it.skipIf(!seed)(`back's normalized table equals the seed's anchorsback.npy${needs}`, () => {
    const t = generateAnchors(PRESETS.back.anchors);
    const seedBack = decodeNpy(new Uint8Array(readFileSync(path.join(seed!, 'anchorsback.npy'))), 'anchorsback.npy');
    expect(seedBack.shape).toEqual([896, 4]);
    expect(Array.from(seedBack.data)).toEqual(Array.from(t));
  });
});

describe('options', () => {
  it('explicit feature map sizes override ceil(input / stride)', () => {
    const o = { ...base, featureMapWidth: [5, 3], featureMapHeight: [4, 2] };
    const t = generateAnchors(o);
    expect(t.length / 4).toBe(5 * 4 * 2 + 3 * 2 * 2);
    expectRow(t, 2, [1.5 / 5, 0.5 / 4, 0.2, 0.2]);
    expectRow(t, 40, [0.5 / 3, 0.25, 0.8, 0.8]);
  });

  it('layers with the same stride are merged onto the first layer\'s feature map (even with explicit sizes)', () => {
    const o = { ...base, strides: [8, 8], featureMapWidth: [5, 3], featureMapHeight: [4, 2] };
    const [g, ...rest] = anchorGroups(o);
    expect(rest).toHaveLength(0);
    expect([g!.featureMapWidth, g!.featureMapHeight, g!.shapes.length]).toEqual([5, 4, 4]);
    expect(g!.shapes.map((s) => s.scale)).toEqual([0.2, expect.closeTo(0.4, 12), 0.8, expect.closeTo(Math.sqrt(0.8), 12)]);
    // Same strides that are not consecutive are not merged.
    expect(anchorGroups({ ...base, numLayers: 3, strides: [8, 16, 8] }).map((g) => g.shapes.length)).toEqual([2, 2, 2]);
  });

  it('ceil for sizes not divisible by the stride; non-square input; rows ordered y, x, shape', () => {
    const o = { ...base, inputSizeWidth: 100, inputSizeHeight: 40, numLayers: 1, strides: [16], interpolatedScaleAspectRatio: 0 };
    const t = generateAnchors(o);
    expect(t.length / 4).toBe(7 * 3);
    expectRow(t, 6, [6.5 / 7, 0.5 / 3, 0.5, 0.5]);
    expectRow(t, 7, [0.5 / 7, 1.5 / 3, 0.5, 0.5]);
  });

  it('anchor offsets and aspect ratios shape w/h = scale * sqrt(r), scale / sqrt(r)', () => {
    const o = { ...base, numLayers: 1, strides: [32], anchorOffsetX: 0, anchorOffsetY: 0.25, aspectRatios: [4], interpolatedScaleAspectRatio: 0 };
    const t = generateAnchors(o);
    expect(row(t, 0)).toEqual([0, 0.125, 1.0, 0.25]);
    expect(row(t, 1)).toEqual([0.5, 0.125, 1.0, 0.25]);
  });

  it('reduce_boxes_in_lowest_layer replaces only layer 0 by (0.1, 1), (s0, 2), (s0, 0.5)', () => {
    const groups = anchorGroups({ ...base, reduceBoxesInLowestLayer: true, aspectRatios: [1, 3] });
    expect(groups[0]!.shapes.map((s) => [s.scale, s.aspectRatio])).toEqual([[0.1, 1], [0.2, 2], [0.2, 0.5]]);
    expect(groups[1]!.shapes.map((s) => s.aspectRatio)).toEqual([1, 3, 1]);
  });

  it('float32 precision gives float32-representable values within 1e-7 of float64', () => {
    const t64 = generateAnchors(MOBILE_SSD_CONFIG.options);
    const t32 = generateAnchors(MOBILE_SSD_CONFIG.options, { precision: 'float32' });
    let differ = 0;
    t32.forEach((v, i) => {
      expect(Math.fround(v)).toBe(v);
      expect(Math.abs(v - t64[i]!)).toBeLessThan(2e-7);
      if (v !== t64[i]) differ++;
    });
    expect(differ).toBeGreaterThan(0); // the precisions really differ on this config
  });

  const bad: [string, Partial<SsdAnchorsOptions>, RegExp][] = [
    ['strides shorter than numLayers', { numLayers: 3 }, /strides has 2 entries but numLayers is 3/],
    ['no strides and no feature maps', { strides: [] }, /strides is empty and so are featureMapWidth\/featureMapHeight/],
    ['feature map heights of wrong length', { featureMapWidth: [4, 2], featureMapHeight: [4] }, /featureMapHeight has 1 entries but numLayers is 2/],
    ['feature map widths of wrong length', { featureMapWidth: [4], featureMapHeight: [4, 2] }, /featureMapWidth has 1 entries but featureMapHeight.length is 2/],
    ['a zero stride', { strides: [8, 0] }, /strides\[1\] must be a positive integer, got 0/],
    ['a fractional input size', { inputSizeWidth: 63.5 }, /inputSizeWidth must be a positive integer/],
    ['zero layers', { numLayers: 0 }, /numLayers must be a positive integer, got 0/],
    ['a zero min scale', { minScale: 0 }, /minScale must be a finite number > 0/],
    ['a negative aspect ratio', { aspectRatios: [1, -2] }, /aspectRatios\[1\] must be a finite number > 0, got -2/],
    ['a negative interpolated ratio', { interpolatedScaleAspectRatio: -1 }, /interpolatedScaleAspectRatio must be >= 0/],
    ['no anchors per cell', { aspectRatios: [], interpolatedScaleAspectRatio: 0 }, /layers 0\.\.0 would get no anchors/],
    ['a NaN offset', { anchorOffsetX: Number.NaN }, /anchorOffsetX must be finite/],
  ];
  for (const [what, patch, message] of bad) {
    it(`rejects ${what}`, () => {
      const call = () => generateAnchors({ ...base, ...patch });
      expect(call).toThrow(AnchorOptionsError);
      expect(call).toThrow(message);
      expect(() => anchorCount({ ...base, ...patch })).toThrow(AnchorOptionsError);
    });
  }
});

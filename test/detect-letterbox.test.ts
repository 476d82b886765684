import { describe, expect, it } from 'vitest';
import { computeLetterbox, imageToModel, letterboxRgb, modelToImage, modelToImageNormalized } from '../src/detect/letterbox.js';
import type { RgbImage } from '../src/image/pixels.js';
import { centroid, gaussianBlob } from './helpers/blob.js';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width, height };
}

/** Deterministic pseudo-random numbers (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const SIZES: [string, number, number][] = [
  ['landscape 640x480', 640, 480],
  ['landscape 1000x301', 1000, 301],
  ['landscape 192x128', 192, 128],
  ['portrait 480x640', 480, 640],
  ['portrait 129x333', 129, 333],
  ['square 300x300', 300, 300],
  ['model size 128x128', 128, 128],
];

describe('letterbox transform', () => {
  it('scales to fit, keeps the aspect ratio, centres', () => {
    expect(computeLetterbox(640, 480, 128, 128)).toMatchObject({ resizedWidth: 128, resizedHeight: 96, padLeft: 0, padTop: 16, identity: false });
    expect(computeLetterbox(480, 640, 128, 128)).toMatchObject({ resizedWidth: 96, resizedHeight: 128, padLeft: 16, padTop: 0 });
    expect(computeLetterbox(192, 128, 128, 128)).toMatchObject({ resizedWidth: 128, resizedHeight: 85, padLeft: 0, padTop: 21 });
    expect(computeLetterbox(128, 128, 128, 128).identity).toBe(true);
    expect(() => computeLetterbox(0, 10, 128, 128)).toThrow(/sourceWidth/);
  });

  for (const [name, w, h] of SIZES) {
    for (const [tw, th] of [[128, 128], [192, 192], [256, 128]] as const) {
      it(`${name} -> ${tw}x${th}: synthetic boxes go through the letterbox and back to 1e-9`, () => {
        const t = computeLetterbox(w, h, tw, th);
        const rand = rng(w * 7919 + h * 31 + tw);
        for (let k = 0; k < 200; k++) {
          const x0 = rand() * w, x1 = x0 + rand() * (w - x0);
          const y0 = rand() * h, y1 = y0 + rand() * (h - y0);
          for (const [x, y] of [[x0, y0], [x1, y1]] as const) {
            const m = imageToModel(t, x, y);
            // Inside the image means inside the model input.
            expect(m.u).toBeGreaterThanOrEqual(-1e-12);
            expect(m.u).toBeLessThanOrEqual(1 + 1e-12);
            const back = modelToImage(t, m.u, m.v);
            expect(Math.abs(back.x - x)).toBeLessThan(1e-9);
            expect(Math.abs(back.y - y)).toBeLessThan(1e-9);
            const n = modelToImageNormalized(t, m.u, m.v);
            expect(Math.abs(n.x - x / w)).toBeLessThan(1e-9);
            expect(Math.abs(n.y - y / h)).toBeLessThan(1e-9);
          }
        }
        // The image corners land on the edges of the scaled area.
        const c0 = imageToModel(t, 0, 0);
        const c1 = imageToModel(t, w, h);
        expect(c0.u * tw).toBeCloseTo(t.padLeft, 9);
        expect(c0.v * th).toBeCloseTo(t.padTop, 9);
        expect(c1.u * tw).toBeCloseTo(t.padLeft + t.resizedWidth, 9);
        expect(c1.v * th).toBeCloseTo(t.padTop + t.resizedHeight, 9);
      });
    }
  }
});

describe('letterboxRgb', () => {
  it('uses an image at the model size as is', async () => {
    const img = solid(128, 128, [10, 20, 30]);
    const { image, transform } = await letterboxRgb(img, 128, 128);
    expect(image).toBe(img);
    expect(transform.identity).toBe(true);
  });

  it('pads a landscape image with black rows above and below', async () => {
    const { image, transform } = await letterboxRgb(solid(200, 100, [255, 255, 255]), 128, 128);
    expect([image.width, image.height, transform.padTop, transform.resizedHeight]).toEqual([128, 128, 32, 64]);
    const px = (x: number, y: number) => image.data[(y * 128 + x) * 3]!;
    for (const x of [0, 64, 127]) {
      expect(px(x, 0)).toBe(0);
      expect(px(x, 31)).toBe(0);
      expect(px(x, 32)).toBe(255);
      expect(px(x, 95)).toBe(255);
      expect(px(x, 96)).toBe(0);
      expect(px(x, 127)).toBe(0);
    }
  });

  it('pads a portrait image with black columns left and right', async () => {
    const { image, transform } = await letterboxRgb(solid(50, 100, [200, 0, 0]), 128, 128);
    expect([transform.padLeft, transform.resizedWidth]).toEqual([32, 64]);
    const row = 64 * 128 * 3;
    expect(image.data[row + 31 * 3]).toBe(0);
    expect(image.data[row + 32 * 3]).toBe(200);
    expect(image.data[row + 95 * 3]).toBe(200);
    expect(image.data[row + 96 * 3]).toBe(0);
  });

  it('puts content where the transform says (a bright square found again after the round trip)', async () => {
    // A white 60x40 rectangle at (150, 90) in a black 400x250 image.
    const src = solid(400, 250, [0, 0, 0]);
    for (let y = 90; y < 130; y++) src.data.fill(255, (y * 400 + 150) * 3, (y * 400 + 210) * 3);
    const { image, transform } = await letterboxRgb(src, 128, 128);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        if (image.data[(y * 128 + x) * 3]! >= 128) {
          x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
        }
      }
    }
    const a = modelToImage(transform, x0 / 128, y0 / 128);
    const b = modelToImage(transform, x1 / 128, y1 / 128);
    // One model pixel is 400/128 = 3.1 source pixels; edges are found to within half of one.
    expect(Math.abs(a.x - 150)).toBeLessThan(1.6);
    expect(Math.abs(a.y - 90)).toBeLessThan(1.6);
    expect(Math.abs(b.x - 210)).toBeLessThan(1.6);
    expect(Math.abs(b.y - 130)).toBeLessThan(1.6);
  });
});

/** A smooth bright Gaussian blob (sigma in source pixels) centred at (cx, cy) in 0-based pixel coordinates, on black. */
describe('letterboxRgb resamples on the transform mapping (blob centroids, enlarging and shrinking)', () => {
  // The blob's centroid in the 128x128 model image, taken back through modelToImage (pixel centre
  // i <-> continuous i + 0.5), must land on its centroid in the source. Resampling keeps a smooth
  // blob's centroid, so any offset is the resampler's. The bound is 0.02 model pixels: 8-bit rounding
  // moves a centroid by up to ~0.01 model px; an off-centre upsampler is off by ~0.5 model px
  // (0.25 source px at 2x). For enlarging that is at most 0.02 source px (well under 0.05); for
  // shrinking, up to 0.1 source px at 640x480 (one model pixel is 5 source pixels there).
  const CASES: [string, number, number][] = [
    ['enlarge 64x64 (2x)', 64, 64],
    ['enlarge 100x80 (1.28x)', 100, 80],
    ['enlarge 50x90 (1.42x)', 50, 90],
    ['enlarge 127x127 (1.008x)', 127, 127],
    ['shrink 640x480', 640, 480],
    ['shrink 300x500', 300, 500],
    ['shrink 192x128', 192, 128],
  ];
  for (const [name, w, h] of CASES) {
    it(`${name}: mapped-back centroid within 0.02 model px of the source centroid`, async () => {
      const t = computeLetterbox(w, h, 128, 128);
      const sx = t.resizedWidth / w, sy = t.resizedHeight / h;
      // Wide enough to be well sampled on both grids: at least 3 source px and 2.5 model px.
      const sigma = Math.max(3, 2.5 / Math.min(sx, sy));
      for (let k = 0; k < 9; k++) {
        // Sub-pixel centres spread over the middle of the image, off its symmetry axes.
        const cx = (0.35 + 0.3 * ((k * 0.618) % 1)) * w + 0.13;
        const cy = (0.35 + 0.3 * ((k * 0.414) % 1)) * h - 0.29;
        const src = gaussianBlob(w, h, cx, cy, sigma);
        const want = centroid(src);
        const { image, transform } = await letterboxRgb(src, 128, 128);
        expect(transform).toEqual(t);
        const c = centroid(image);
        const back = modelToImage(transform, (c.x + 0.5) / 128, (c.y + 0.5) / 128);
        const dx = back.x - 0.5 - want.x, dy = back.y - 0.5 - want.y;
        expect(Math.abs(dx * sx), `dx ${dx.toFixed(4)} source px for the blob at (${cx.toFixed(2)}, ${cy.toFixed(2)})`).toBeLessThan(0.02);
        expect(Math.abs(dy * sy), `dy ${dy.toFixed(4)} source px for the blob at (${cx.toFixed(2)}, ${cy.toFixed(2)})`).toBeLessThan(0.02);
      }
    });
  }

  it('enlarges 2x with bilinear taps at (i + 0.5) / 2 - 0.5, clamped at the edges', async () => {
    // 2x1 -> 4x2: the output samples source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const src: RgbImage = { data: Uint8Array.from([0, 100, 200, 200, 100, 0]), width: 2, height: 1 };
    const { image, transform } = await letterboxRgb(src, 4, 2);
    expect(transform).toMatchObject({ resizedWidth: 4, resizedHeight: 2, padLeft: 0, padTop: 0 });
    const row = [0, 0, 0, 0].map((_, x) => Array.from(image.data.subarray(x * 3, x * 3 + 3)));
    expect(row).toEqual([
      [0, 100, 200],
      [50, 100, 150],
      [150, 100, 50],
      [200, 100, 0],
    ]);
    expect(Array.from(image.data.subarray(12, 24))).toEqual(Array.from(image.data.subarray(0, 12)));
  });
});

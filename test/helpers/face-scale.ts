// Seed faces at chosen sizes inside a model-size canvas: how small a face each preset still finds.
// Used by scripts/measure-face-size.ts (the measurement) and test/detect-tiling.test.ts (its check).
import path from 'node:path';
import sharp from 'sharp';
import type { Detector } from '../../src/detect/detector.js';
import { SEED_PHOTOS } from '../../src/fixtures.js';
import type { RgbImage } from '../../src/image/pixels.js';

/** Grey canvas of the model size with the seed photo shrunk to `side` x `side` at its centre. */
export async function seedAtSide(seed: string, file: string, side: number, modelSize: number): Promise<{ image: RgbImage; left: number; top: number }> {
  const small = await sharp(path.join(seed, file)).removeAlpha().toColourspace('srgb').resize(side, side, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  // Centred; a photo larger than the canvas is cropped to it.
  const left = Math.floor((modelSize - side) / 2), top = left;
  const data = new Uint8Array(modelSize * modelSize * 3).fill(128);
  const x0 = Math.max(0, -left), x1 = Math.min(side, modelSize - left);
  for (let y = Math.max(0, -top); y < Math.min(side, modelSize - top); y++) {
    data.set(small.subarray((y * side + x0) * 3, (y * side + x1) * 3), ((top + y) * modelSize + left + x0) * 3);
  }
  return { image: { data, width: modelSize, height: modelSize }, left, top };
}

export interface FaceScaleRow {
  /** Face width in model input pixels (the faces of the photo at their native size, scaled). */
  readonly facePx: number;
  readonly expected: number;
  readonly found: number;
}

/**
 * For each seed photo, the faces found at native size are the truth; the photo is then shrunk so its
 * faces are `facePx` model pixels wide (their mean width), and the faces found again near where they
 * should be (centre within half a face width).
 */
export async function faceScaleRows(detector: Detector, seed: string, facePxList: readonly number[]): Promise<FaceScaleRow[]> {
  const m = detector.preset.inputWidth;
  const rows: FaceScaleRow[] = [];
  for (const file of SEED_PHOTOS) {
    const truth = await detector.detect(path.join(seed, file));
    if (truth.length === 0) continue;
    const meanWidth = truth.reduce((s, f) => s + f.box.width, 0) / truth.length;
    for (const facePx of facePxList) {
      const side = Math.round((128 * facePx) / meanWidth);
      if (side < 8) continue;
      const { image, left, top } = await seedAtSide(seed, file, side, m);
      const k = side / 128;
      // Only faces wholly inside the canvas count.
      const inside = truth.filter((t) => left + k * t.box.xMin >= 0 && left + k * t.box.xMax <= m && top + k * t.box.yMin >= 0 && top + k * t.box.yMax <= m);
      if (inside.length === 0) continue;
      const faces = await detector.detect(image);
      const found = inside.filter((t) => {
        const cx = left + k * (t.box.xMin + t.box.xMax) / 2, cy = top + k * (t.box.yMin + t.box.yMax) / 2;
        return faces.some((f) => Math.hypot((f.box.xMin + f.box.xMax) / 2 - cx, (f.box.yMin + f.box.yMax) / 2 - cy) < (k * t.box.width) / 2);
      }).length;
      rows.push({ facePx, expected: inside.length, found });
    }
  }
  return rows;
}

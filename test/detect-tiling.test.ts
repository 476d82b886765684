// Tiling: the grid rule, the face-size measurement it is derived from, small faces of a mosaic found and
// mapped back to the right pixels, and a face on a tile seam reported once.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { createDetectorCore } from '../src/detect/core.js';
import { createDetector, type Detector } from '../src/detect/detector.js';
import type { Face } from '../src/detect/face.js';
import type { RawImage } from '../src/detect/input.js';
import { autoTileGrid, checkTiling, MIN_FACE_MODEL_PIXELS, parseTiling, planTiles, type Tile } from '../src/detect/tiling.js';
import { InvalidOptionError } from '../src/errors.js';
import { seedDir } from '../src/fixtures.js';
import { getPreset } from '../src/presets/index.js';
import { faceScaleRows } from './helpers/face-scale.js';
import { composeSeeds, seedMosaic, type MosaicCell } from './helpers/photos.js';

const SEED = seedDir();
const ORT = (await onnxruntimeNodeBackend.availability()).available;
const full = getPreset('full_range');

describe('tile grid', () => {
  it('auto: 3x4 tiles for 3840x2560 and 1280x960 photos on full_range, none within the model input', () => {
    // A 3 % face is 5.8 model px in the whole view at any image size, so the grid follows the face fraction.
    expect(autoTileGrid(3840, 2560, full)).toMatchObject({ rows: 3, cols: 4 });
    expect(autoTileGrid(1280, 960, full)).toMatchObject({ rows: 3, cols: 4 });
    expect(planTiles(192, 150, autoTileGrid(192, 150, full))).toEqual([]);
    // short_range needs 24 model px: a 3840-wide photo would need more than MAX_TILES, so it is capped.
    const sr = autoTileGrid(3840, 2560, getPreset('short_range'));
    expect(sr.rows * sr.cols).toBeLessThanOrEqual(64);
  });

  it('tiles cover the image, overlap as asked, and stay inside it', () => {
    for (const [w, h, grid] of [[3840, 2560, { rows: 3, cols: 4, overlap: 0.2 }], [1001, 777, { rows: 2, cols: 3 }], [500, 4000, { rows: 5, cols: 1, overlap: 0.4 }]] as const) {
      const tiles = planTiles(w, h, grid);
      expect(tiles).toHaveLength(grid.rows * grid.cols);
      const covered = new Uint8Array(w * h);
      for (const t of tiles) {
        expect(t.left >= 0 && t.top >= 0 && t.left + t.width <= w && t.top + t.height <= h).toBe(true);
        for (let y = t.top; y < t.top + t.height; y++) covered.fill(1, y * w + t.left, y * w + t.left + t.width);
      }
      expect(covered.every((v) => v === 1)).toBe(true);
      if (grid.cols > 1) expect((tiles[0]!.left + tiles[0]!.width - tiles[1]!.left) / tiles[0]!.width).toBeCloseTo(grid.overlap ?? 0.25, 1);
    }
  });

  it('parses the CLI form and refuses bad options with INVALID_OPTION', () => {
    expect(parseTiling('auto')).toBe('auto');
    expect(parseTiling('2x3')).toEqual({ rows: 2, cols: 3 });
    expect(parseTiling('2x3:0.1')).toEqual({ rows: 2, cols: 3, overlap: 0.1 });
    expect(parseTiling('2*3')).toBeNull();
    for (const bad of ['big', { rows: 0, cols: 2 }, { rows: 2, cols: 2.5 }, { rows: 9, cols: 9 }, { rows: 2, cols: 2, overlap: 0.5 }]) {
      expect(() => checkTiling(bad)).toThrow(InvalidOptionError);
    }
  });
});

/** Faces of a seed photo alone, scaled into a mosaic cell (the mosaic's true faces). */
function truthInCell(faces: Face[], cell: MosaicCell): { x0: number; y0: number; x1: number; y1: number }[] {
  const k = cell.side / 128;
  return faces.map((f) => {
    const x0 = cell.flip ? 128 - f.box.xMax : f.box.xMin, x1 = cell.flip ? 128 - f.box.xMin : f.box.xMax;
    return { x0: cell.left + k * x0, y0: cell.top + k * f.box.yMin, x1: cell.left + k * x1, y1: cell.top + k * f.box.yMax };
  });
}

function crop(img: RawImage, t: Tile): RawImage {
  const data = new Uint8Array(t.width * t.height * 3);
  for (let y = 0; y < t.height; y++) data.set((img.data as Uint8Array).subarray(((t.top + y) * img.width + t.left) * 3, ((t.top + y) * img.width + t.left + t.width) * 3), y * t.width * 3);
  return { data, width: t.width, height: t.height };
}

describe.skipIf(!SEED || !ORT)('tiling on real faces (needs the seed photos and onnxruntime-node)', () => {
  let plain: Detector, tiled: Detector;
  beforeAll(async () => {
    plain = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node' });
    tiled = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node', tiling: 'auto' });
  });
  afterAll(async () => {
    await Promise.all([plain.dispose(), tiled.dispose()]);
  });

  it(`the measured smallest face full_range finds (${MIN_FACE_MODEL_PIXELS.full_range} model px) holds, and a 2/3 of it does not`, async () => {
    const m = MIN_FACE_MODEL_PIXELS.full_range!;
    const at = async (px: number) => (await faceScaleRows(plain, SEED!, [px])).reduce((a, r) => [a[0]! + r.found, a[1]! + r.expected], [0, 0]);
    for (const px of [m, Math.round(m * 1.25), Math.round(m * 1.5)]) {
      const [found, expected] = await at(px);
      expect(found, `${px} px`).toBe(expected);
    }
    const [found, expected] = await at(Math.round((m * 2) / 3));
    expect(found).toBeLessThan(expected);
  });

  it('a 3840x2560 mosaic of the seed photos and their mirror images: the tiles find the faces the whole view misses, at the right pixels', async () => {
    const mosaic = await seedMosaic(SEED!, 1280);
    const image: RawImage = { data: new Uint8Array(mosaic.raw), width: mosaic.width, height: mosaic.height };
    const truth = [];
    for (const cell of mosaic.cells) truth.push(...truthInCell(await plain.detect(path.join(SEED!, cell.file)), cell));
    expect(truth).toHaveLength(16);
    const whole = await plain.detect(image);
    const faces = await tiled.detect(image);
    expect(whole.length).toBeLessThan(4);
    const tiles = planTiles(image.width, image.height, autoTileGrid(image.width, image.height, full));
    let matched = 0;
    for (const t of truth) {
      const size = t.x1 - t.x0;
      const f = faces.find((c) => Math.hypot((c.box.xMin + c.box.xMax - t.x0 - t.x1) / 2, (c.box.yMin + c.box.yMax - t.y0 - t.y1) / 2) < 0.2 * size);
      if (!f) continue;
      matched++;
      // Mapped back correctly: some tile that holds the face whole finds it, run alone, at the same pixels.
      const holding = tiles.filter((tile) => f.box.xMin >= tile.left && f.box.yMin >= tile.top && f.box.xMax <= tile.left + tile.width && f.box.yMax <= tile.top + tile.height);
      let best = Infinity;
      for (const tile of holding) {
        for (const c of await plain.detect(crop(image, tile))) {
          const d = Math.max(Math.abs(c.box.xMin + tile.left - f.box.xMin), Math.abs(c.box.yMin + tile.top - f.box.yMin), Math.abs(c.box.xMax + tile.left - f.box.xMax), Math.abs(c.box.yMax + tile.top - f.box.yMax));
          best = Math.min(best, d);
        }
      }
      expect(best, `corners of the face at (${t.x0.toFixed(0)}, ${t.y0.toFixed(0)}), ${size.toFixed(0)} px, against its tiles run alone`).toBeLessThan(Math.max(4, 0.03 * size));
    }
    expect(matched).toBe(16);
    // At most one detection that is not a true face (a 0.60 fragment where a tile cuts a shirt, see README).
    expect(faces.length - matched).toBeLessThanOrEqual(1);
  });

  it('the platform-free core tiles too (the browser route: pure-TypeScript letterbox, RGBA pixels)', async () => {
    const mosaic = await seedMosaic(SEED!, 1280);
    const rgba = new Uint8Array(mosaic.width * mosaic.height * 4);
    for (let p = 0, q = 0; q < rgba.length; p += 3, q += 4) rgba.set([mosaic.raw[p]!, mosaic.raw[p + 1]!, mosaic.raw[p + 2]!, 255], q);
    const core = createDetectorCore({ preset: full, backend: plain.backend, tiling: 'auto' });
    const prepared = await core.prepare({ data: rgba, width: mosaic.width, height: mosaic.height, channels: 4 }, 'mosaic');
    expect(prepared.tiles).toHaveLength(12);
    const [faces] = await core.infer([prepared]);
    const node = await tiled.detect({ data: new Uint8Array(mosaic.raw), width: mosaic.width, height: mosaic.height });
    // The same faces as the Node detector (whose letterbox is sharp's), within 2 % of their size.
    let same = 0;
    for (const f of node) {
      if (faces!.some((g) => Math.max(Math.abs(g.box.xMin - f.box.xMin), Math.abs(g.box.yMin - f.box.yMin), Math.abs(g.box.xMax - f.box.xMax), Math.abs(g.box.yMax - f.box.yMax)) < 0.02 * f.box.width)) same++;
    }
    expect(same).toBeGreaterThanOrEqual(15);
    expect(Math.abs(faces!.length - node.length)).toBeLessThanOrEqual(1);
  });

  it('a face on a tile seam, found whole by both tiles, is reported once', async () => {
    // 2400x1000, tiles 0..1372 and 1028..2400 (overlap 0.25); the seed face enlarged 4x sits at x ~1200.
    const cells: MosaicCell[] = [{ file: '1face.png', flip: false, left: 1200 - 4 * 54, top: 200, side: 512 }];
    const raw = await composeSeeds(SEED!, cells, 2400, 1000);
    const image: RawImage = { data: new Uint8Array(raw), width: 2400, height: 1000 };
    const grid = { rows: 1, cols: 2, overlap: 0.25 };
    const seam = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node', tiling: grid });
    try {
      const tiles = planTiles(2400, 1000, grid);
      const perTile = await Promise.all(tiles.map(async (t) => (await plain.detect(crop(image, t))).map((f) => f.box.xMin + t.left)));
      // Both tiles see the face whole, at the same place.
      expect(perTile.map((xs) => xs.length)).toEqual([1, 1]);
      expect(Math.abs(perTile[0]![0]! - perTile[1]![0]!)).toBeLessThan(8);
      const faces = await seam.detect(image);
      expect(faces).toHaveLength(1);
      expect(Math.abs(faces[0]!.box.xMin - perTile[0]![0]!)).toBeLessThan(8);
    } finally {
      await seam.dispose();
    }
  });
});

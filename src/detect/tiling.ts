// Tiling for small faces in large images, platform-free (the Node and browser detectors share it through
// ./core.ts). The whole image is squeezed into the model input, so a face of 3 % of a 3840-pixel-wide
// photo becomes 6 model pixels, below what the models find. Tiles are crops of the full-resolution pixels,
// each letterboxed to the model input and run in one batch with the whole-image view; every view's
// candidates are mapped to the original image and merged by the preset's weighted NMS.
import { InvalidOptionError } from '../errors.js';
import type { Preset } from '../presets/types.js';

/** A grid of rows x cols tiles, neighbours overlapping by `overlap` (a fraction of the tile size, 0 to 0.5). */
export interface TileGrid {
  readonly rows: number;
  readonly cols: number;
  readonly overlap?: number;
}

/** 'auto': the grid follows from the image size and the model (see autoTileGrid); off when undefined. */
export type TilingOption = 'auto' | TileGrid;

/** One tile: a crop of the image, in image pixels. */
export interface Tile {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The smallest face width, in model input pixels, a preset finds reliably. Measured on the seed photos
 * shrunk into a model-size canvas (scripts/measure-face-size.ts; test/detect-tiling.test.ts checks it):
 * full_range found 0 of 8 faces at 6 px, 5 of 8 at 9 px, and every face from 12 px up (apart from one
 * at 45-51 px). short_range found 3 of 5 at 12 px, 4 of 5 at 15-21 px and 2-3 of 3 from 24 px up: it
 * never gets fully reliable, so tiling suits full_range. Unmeasured presets get a quarter of their input.
 */
export const MIN_FACE_MODEL_PIXELS: Readonly<Record<string, number>> = { full_range: 12, full_range_sparse: 12, short_range: 24 };

export function minFaceModelPixels(preset: Preset): number {
  return MIN_FACE_MODEL_PIXELS[preset.name] ?? Math.ceil(Math.min(preset.inputWidth, preset.inputHeight) / 4);
}

/** Width of the smallest face 'auto' is sized for, as a fraction of the image width. */
export const AUTO_FACE_FRACTION = 0.03;
/** 'auto' shows that face at this multiple of the smallest reliable size, so faces down to 2 % are still found. */
export const AUTO_MARGIN = 1.5;
/** More tiles than this per image is refused (each tile is one more model run). */
export const MAX_TILES = 64;

export function checkTiling(value: unknown, where = 'createDetector'): void {
  if (value === undefined || value === 'auto') return;
  const bad = (msg: string): never => {
    throw new InvalidOptionError('tiling', `${where}: tiling ${msg}`);
  };
  if (typeof value !== 'object' || value === null) bad(`must be 'auto' or { rows, cols, overlap? }, got ${String(value)}`);
  const { rows, cols, overlap } = value as TileGrid;
  for (const [k, v] of [['rows', rows], ['cols', cols]] as const) {
    if (!(Number.isInteger(v) && v >= 1 && v <= MAX_TILES)) bad(`${k} must be an integer in [1, ${MAX_TILES}], got ${String(v)}`);
  }
  if (rows * cols > MAX_TILES) bad(`rows x cols must be at most ${MAX_TILES}, got ${rows}x${cols}`);
  if (overlap !== undefined && !(typeof overlap === 'number' && overlap >= 0 && overlap < 0.5)) bad(`overlap must be a number in [0, 0.5), got ${String(overlap)}`);
}

/** Parses the CLI's `auto` or `RxC[:overlap]` (e.g. 2x3, 2x3:0.2); null when it is neither. */
export function parseTiling(text: string): TilingOption | null {
  if (text === 'auto') return 'auto';
  const m = /^(\d+)x(\d+)(?::(\d*\.?\d+))?$/.exec(text);
  if (!m) return null;
  return { rows: Number(m[1]), cols: Number(m[2]), ...(m[3] === undefined ? {} : { overlap: Number(m[3]) }) };
}

/**
 * The rule behind 'auto'. With M the model input side, m the smallest reliable face (model pixels)
 * and W x H the image:
 *  - tile side S = 3 % of W x M / (1.5 m): a face of 3 % of the width is seen at 1.5 m, one of 2 % at m;
 *  - overlap O = the smallest face the whole-image view finds, m / min(M/W, M/H) image pixels (at most
 *    S/2): any face too small for the whole view fits wholly inside some tile;
 *  - cols = ceil((W - O) / (S - O)), rows likewise; a 1x1 grid means no tiles (the whole view suffices).
 * Returned as a grid whose overlap is O over the tile size.
 */
export function autoTileGrid(width: number, height: number, preset: Preset): TileGrid {
  const M = Math.min(preset.inputWidth, preset.inputHeight);
  const m = minFaceModelPixels(preset);
  const side = Math.max(M, Math.floor((AUTO_FACE_FRACTION * width * M) / (AUTO_MARGIN * m)));
  const wholeScale = Math.min(preset.inputWidth / width, preset.inputHeight / height);
  const overlapPx = Math.min(Math.ceil(m / wholeScale), Math.floor(side / 2));
  const count = (n: number) => Math.max(1, Math.ceil((n - overlapPx) / (side - overlapPx)));
  let cols = count(width), rows = count(height);
  while (rows * cols > MAX_TILES) (rows >= cols ? rows-- : cols--);
  const tileW = (width + (cols - 1) * overlapPx) / cols, tileH = (height + (rows - 1) * overlapPx) / rows;
  return { rows, cols, overlap: Math.min(0.49, overlapPx / Math.max(tileW, tileH)) };
}

/** A tile candidate whose box comes this close (fraction of the tile side) to an inner tile edge is a cut face. */
export const CUT_MARGIN = 0.01;

/**
 * Whether a box (image pixels) reaches an edge of the tile that lies inside the image: the face is cut
 * there, and the neighbouring tile (the overlap is sized to hold whole faces) or the whole view has it whole.
 */
export function cutByTile(tile: Tile, imageWidth: number, imageHeight: number, x0: number, y0: number, x1: number, y1: number): boolean {
  const mx = CUT_MARGIN * tile.width, my = CUT_MARGIN * tile.height;
  return (
    (tile.left > 0 && x0 < tile.left + mx) ||
    (tile.top > 0 && y0 < tile.top + my) ||
    (tile.left + tile.width < imageWidth && x1 > tile.left + tile.width - mx) ||
    (tile.top + tile.height < imageHeight && y1 > tile.top + tile.height - my)
  );
}

/** Default overlap of an explicit grid: a quarter of the tile. */
export const DEFAULT_OVERLAP = 0.25;

/**
 * The tiles of a grid over a width x height image, in image pixels: tile size t = n / (k - (k-1) f) with
 * overlap f, neighbours t (1 - f) apart, the last one flush with the image edge. Empty for a 1x1 grid.
 */
export function planTiles(width: number, height: number, grid: TileGrid): Tile[] {
  if (grid.rows * grid.cols <= 1) return [];
  const f = grid.overlap ?? DEFAULT_OVERLAP;
  const axis = (n: number, k: number) => {
    const size = Math.min(n, Math.ceil(n / (k - (k - 1) * f)));
    return Array.from({ length: k }, (_, i) => ({ start: k === 1 ? 0 : Math.round((i * (n - size)) / (k - 1)), size }));
  };
  const xs = axis(width, grid.cols), ys = axis(height, grid.rows);
  const tiles: Tile[] = [];
  for (const y of ys) {
    for (const x of xs) tiles.push({ left: x.start, top: y.start, width: x.size, height: y.size });
  }
  return tiles;
}

/** The grid for an image: explicit, or autoTileGrid. */
export function tileGridFor(option: TilingOption, width: number, height: number, preset: Preset): TileGrid {
  return option === 'auto' ? autoTileGrid(width, height, preset) : option;
}

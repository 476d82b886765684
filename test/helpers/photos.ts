// Larger test photos built from the 128x128 seed photos: enlarged and padded, mosaics as JPEG with and
// without an ICC profile, EXIF-rotated. Used by the fast-preprocessing and tiling tests and by
// scripts/bench-preprocess.ts. Everything is generated in memory from the seed files; nothing is downloaded.
import path from 'node:path';
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { SEED_PHOTOS } from '../../src/fixtures.js';

/** A seed photo enlarged to `side` x `side`, or mirrored left-right first. */
async function seedTile(seed: string, file: string, side: number, flip: boolean): Promise<Buffer> {
  let img = sharp(path.join(seed, file)).removeAlpha().toColourspace('srgb');
  if (flip) img = img.flop();
  return img.resize(side, side, { kernel: 'lanczos3' }).raw().toBuffer();
}

export interface MosaicCell {
  readonly file: string;
  readonly flip: boolean;
  readonly left: number;
  readonly top: number;
  readonly side: number;
}

/** Seed photos (each enlarged to its cell's side, mirrored when `flip`) on a black width x height canvas, as raw RGB. */
export async function composeSeeds(seed: string, cells: readonly MosaicCell[], width: number, height: number): Promise<Buffer> {
  const composites: OverlayOptions[] = [];
  for (const c of cells) composites.push({ input: await seedTile(seed, c.file, c.side, c.flip), raw: { width: c.side, height: c.side, channels: 3 }, left: c.left, top: c.top });
  return sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } }).composite(composites).removeAlpha().raw().toBuffer();
}

/**
 * The three seed photos in the top row and their mirror images in the bottom row, each enlarged to
 * `side` pixels: a `side * 3` x `side * 2` group photo whose true faces are known cell by cell.
 */
export async function seedMosaic(seed: string, side: number): Promise<{ raw: Buffer; width: number; height: number; cells: MosaicCell[] }> {
  const cells: MosaicCell[] = [];
  for (const [row, flip] of [[0, false], [1, true]] as const) {
    for (const [col, file] of SEED_PHOTOS.entries()) cells.push({ file, flip, left: col * side, top: row * side, side });
  }
  return { raw: await composeSeeds(seed, cells, side * 3, side * 2), width: side * 3, height: side * 2, cells };
}

/** A 1920x1280 "photo" with faces of several sizes: 1face at 1280, 3faces and a mirrored 1face at 640 beside it. */
export async function seedPhoto1920(seed: string): Promise<{ raw: Buffer; width: number; height: number }> {
  const cells: MosaicCell[] = [
    { file: '1face.png', flip: false, left: 0, top: 0, side: 1280 },
    { file: '3faces.png', flip: false, left: 1280, top: 0, side: 640 },
    { file: '1face.png', flip: true, left: 1280, top: 640, side: 640 },
  ];
  return { raw: await composeSeeds(seed, cells, 1920, 1280), width: 1920, height: 1280 };
}

function fromRaw(raw: Buffer | Uint8Array, width: number, height: number): Sharp {
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

/** JPEG of raw RGB; `icc` embeds that profile ('srgb' or 'p3'), `orientation` stores the pixels turned so they display upright with that EXIF tag. */
export async function encodeJpeg(raw: Buffer | Uint8Array, width: number, height: number, options: { icc?: 'srgb' | 'p3'; orientation?: 1 | 3 | 6 | 8; quality?: number } = {}): Promise<Buffer> {
  let img = fromRaw(raw, width, height);
  const o = options.orientation ?? 1;
  // Stored = displayed turned back: orientation 6 displays the stored pixels turned 90 degrees clockwise.
  if (o !== 1) img = sharp(await img.rotate({ 3: 180, 6: 270, 8: 90 }[o]).png().toBuffer()).withMetadata({ orientation: o });
  if (options.icc) img = img.withIccProfile(options.icc);
  return img.jpeg({ quality: options.quality ?? 92 }).toBuffer();
}

export async function encodePng(raw: Buffer | Uint8Array, width: number, height: number): Promise<Buffer> {
  return fromRaw(raw, width, height).png().toBuffer();
}

/** A seed photo enlarged by `scale` and centred on a black canvas of width x height (PNG). */
export async function paddedSeed(seed: string, file: string, scale: number, width: number, height: number): Promise<{ png: Buffer; left: number; top: number }> {
  const side = 128 * scale;
  const left = Math.floor((width - side) / 2), top = Math.floor((height - side) / 2);
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite([{ input: await seedTile(seed, file, side, false), raw: { width: side, height: side, channels: 3 }, left, top }])
    .png()
    .toBuffer();
  return { png, left, top };
}

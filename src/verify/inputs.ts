// Inputs of the parity check: the seed's photos, the face photo that tfjs-models ships inside its
// blazeface package (raw RGB in its test util), and seeded random images. Every input has a stable name.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ImageBatch } from '../backends/backend.js';
import { InputImageError } from '../errors.js';
import { SEED_PHOTOS, seedDir } from '../fixtures.js';
import { decodeRgb, resizeRgb, toModelBatch, type RgbImage } from '../image/pixels.js';
import type { Preset } from '../presets/types.js';
import { mulberry32 } from '../util/random.js';
import type { InputKind } from './report-types.js';

export interface VerifyInput {
  /** Stable name used in reports and failure messages, e.g. '3faces.png', 'random-2'. */
  readonly name: string;
  readonly kind: InputKind;
  /** Where the pixels come from (file, package file, PRNG recipe). */
  readonly origin: string;
  /** The pixels at exactly width x height. */
  render(width: number, height: number): Promise<RgbImage>;
}

export const TFJS_FACE_NAME = 'tfjs-models-face';
const TFJS_PACKAGE = '@tensorflow-models/blazeface';
const TFJS_TEST_UTIL = 'dist/test_util.js';
const TFJS_FACE_SIZE = 128;

/** Folder of an installed package, found through node's resolver (works for hoisted and nested installs). */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve(`${name}/package.json`));
}

/**
 * Parse the `stubbedImageVals` array out of the package's compiled test util. The file is read as text
 * (not executed) so nothing of the package runs here; the numbers stay in node_modules, not in this repo.
 */
export async function loadTfjsModelsFace(dir = packageDir(TFJS_PACKAGE)): Promise<{ image: RgbImage; origin: string }> {
  const file = path.join(dir, TFJS_TEST_UTIL);
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new InputImageError('TFJS_FACE_MISSING', `${file}: cannot read the tfjs-models test face (${String(err)})`, { file, cause: err });
  });
  const match = /stubbedImageVals\s*=\s*\[([^\]]*)\]/.exec(text);
  if (!match) {
    throw new InputImageError('TFJS_FACE_FORMAT', `${file}: no 'stubbedImageVals = [...]' array found`, { file });
  }
  const expected = TFJS_FACE_SIZE * TFJS_FACE_SIZE * 3;
  const parts = match[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length !== expected) {
    throw new InputImageError('TFJS_FACE_FORMAT', `${file}: stubbedImageVals has ${parts.length} values, expected ${expected} (128x128x3)`, { file });
  }
  const data = new Uint8Array(expected);
  parts.forEach((s, i) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new InputImageError('TFJS_FACE_FORMAT', `${file}: stubbedImageVals[${i}] = '${s}' is not a byte`, { file });
    }
    data[i] = v;
  });
  let version = '?';
  try {
    version = (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    // the version only decorates the origin string
  }
  return {
    image: { data, width: TFJS_FACE_SIZE, height: TFJS_FACE_SIZE },
    origin: `${TFJS_PACKAGE}@${version} ${TFJS_TEST_UTIL} stubbedImageVals (128x128 RGB face photo)`,
  };
}

/**
 * Random image number `index`: even indices are per-pixel uniform noise over the full byte range
 * (extreme activations), odd ones are a random 8x8 colour field upsampled bilinearly (smooth,
 * photo-like statistics that reach deeper layers differently).
 */
export async function randomImage(seed: number, index: number, width: number, height: number): Promise<RgbImage> {
  const next = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  if (index % 2 === 0) {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
    return { data, width, height };
  }
  const grid = 8;
  const coarse = new Uint8Array(grid * grid * 3);
  for (let i = 0; i < coarse.length; i++) coarse[i] = Math.floor(next() * 256);
  return resizeRgb({ data: coarse, width: grid, height: grid }, width, height);
}

export interface InputOptions {
  /** Number of seeded random images (default 8). */
  randomCount?: number;
  /** PRNG seed (default 20240601). */
  randomSeed?: number;
  /** Use the seed photos when the seed folder exists (default true). */
  seedPhotos?: boolean;
  /** Include the tfjs-models face (default true). */
  tfjsFace?: boolean;
}

export const DEFAULT_RANDOM_SEED = 20240601;

function photoInput(name: string, kind: InputKind, origin: string, image: RgbImage): VerifyInput {
  return { name, kind, origin, render: (w, h) => resizeRgb(image, w, h) };
}

/** All inputs, in report order: seed photos, the tfjs-models face, then random-0..random-(n-1). */
export async function loadVerifyInputs(options: InputOptions = {}): Promise<VerifyInput[]> {
  const randomCount = options.randomCount ?? 8;
  const randomSeed = options.randomSeed ?? DEFAULT_RANDOM_SEED;
  const inputs: VerifyInput[] = [];
  const seed = options.seedPhotos === false ? null : seedDir();
  if (seed) {
    for (const name of SEED_PHOTOS) {
      const file = path.join(seed, name);
      inputs.push(photoInput(name, 'seed-photo', `seed ${name}`, await decodeRgb(file, name)));
    }
  }
  if (options.tfjsFace !== false) {
    const { image, origin } = await loadTfjsModelsFace();
    inputs.push(photoInput(TFJS_FACE_NAME, 'tfjs-models-face', origin, image));
  }
  for (let i = 0; i < randomCount; i++) {
    const recipe = i % 2 === 0 ? 'uniform noise' : '8x8 colour field, bilinear';
    inputs.push({
      name: `random-${i}`,
      kind: 'random',
      origin: `mulberry32 seed ${randomSeed}, image ${i}: ${recipe}`,
      render: (w, h) => randomImage(randomSeed, i, w, h),
    });
  }
  return inputs;
}

export interface PreparedInputs {
  /** The pixels each input contributes, at the preset's input size (what the model sees). */
  readonly images: RgbImage[];
  /** One NHWC batch, N = inputs.length, normalized to [-1, 1]. */
  readonly batch: ImageBatch;
}

/** Resize every input to the preset's input size and stack them into one normalized batch. */
export async function prepareInputs(inputs: readonly VerifyInput[], preset: Preset): Promise<PreparedInputs> {
  const images = await Promise.all(inputs.map((input) => input.render(preset.inputWidth, preset.inputHeight)));
  return { images, batch: toModelBatch(images) };
}

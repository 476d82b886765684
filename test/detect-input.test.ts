import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputLabel, loadInputImage } from '../src/detect/input.js';
import { InputImageError } from '../src/errors.js';

let dir: string;
let png: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'detect-input-'));
  png = await sharp({ create: { width: 16, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  await writeFile(path.join(dir, 'empty.png'), new Uint8Array(0));
  await writeFile(path.join(dir, 'truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  await writeFile(path.join(dir, 'notes.txt'), 'this is not an image\n');
  await writeFile(path.join(dir, 'ok.png'), png);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectInputError(p: Promise<unknown>, label: string, code?: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputImageError);
  const e = err as InputImageError;
  expect(e.message).toContain(label);
  expect(e.file).toBe(label);
  if (code) expect(e.code).toBe(code);
}

describe('loadInputImage: bad inputs give a typed error naming the input', () => {
  it('empty file, truncated PNG, text file, missing file', async () => {
    for (const name of ['empty.png', 'truncated.png', 'notes.txt', 'missing.png']) {
      const file = path.join(dir, name);
      await expectInputError(loadInputImage(file), file);
    }
  });

  it('empty and garbage buffers', async () => {
    await expectInputError(loadInputImage(new Uint8Array(0)), '<buffer>', 'IMAGE_EMPTY');
    await expectInputError(loadInputImage(new Uint8Array(await readFile(path.join(dir, 'truncated.png'))), 'photo-bytes'), 'photo-bytes');
  });

  it('0x0 and inconsistent raw images', async () => {
    await expectInputError(loadInputImage({ data: new Uint8Array(0), width: 0, height: 0 }), '<raw 0x0>', 'IMAGE_SIZE');
    await expectInputError(loadInputImage({ data: new Uint8Array(10), width: 2, height: 2 }), '<raw 2x2>', 'IMAGE_RAW_LENGTH');
    await expectInputError(loadInputImage({ data: new Uint8Array(20), width: 2, height: 2, channels: 5 as 3 }), '<raw 2x2>', 'IMAGE_CHANNELS');
    await expectInputError(loadInputImage({ data: new Uint8Array(12), width: 2.5, height: 2, label: 'frac' }), 'frac', 'IMAGE_SIZE');
  });

  it('NaN or out-of-range float pixels', async () => {
    const nan = new Float32Array(4 * 4 * 3).fill(100);
    nan[17] = Number.NaN;
    await expectInputError(loadInputImage({ data: nan, width: 4, height: 4, label: 'frame-7' }), 'frame-7', 'IMAGE_NAN');
    const big = new Float32Array(4 * 4 * 3).fill(300);
    await expectInputError(loadInputImage({ data: big, width: 4, height: 4 }), '<raw 4x4>', 'IMAGE_RANGE');
    const inf = new Float32Array(4 * 4 * 3).fill(Number.POSITIVE_INFINITY);
    await expectInputError(loadInputImage({ data: inf, width: 4, height: 4 }), '<raw 4x4>', 'IMAGE_RANGE');
  });
});

describe('loadInputImage: good inputs', () => {
  it('decodes paths and bytes to the same RGB', async () => {
    const a = await loadInputImage(path.join(dir, 'ok.png'));
    const b = await loadInputImage(new Uint8Array(png));
    expect([a.width, a.height]).toEqual([16, 8]);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(a.data[0]).toBe(128);
  });

  it('drops alpha from RGBA and rounds float pixels', async () => {
    const rgba = Uint8Array.from([1, 2, 3, 255, 4, 5, 6, 0]);
    expect(Array.from((await loadInputImage({ data: rgba, width: 2, height: 1, channels: 4 })).data)).toEqual([1, 2, 3, 4, 5, 6]);
    const f = Float32Array.from([0, 127.4, 127.6, 255, 0.49, 254.5]);
    expect(Array.from((await loadInputImage({ data: f, width: 2, height: 1 })).data)).toEqual([0, 127, 128, 255, 0, 255]);
  });

  it('honours EXIF orientation', async () => {
    // 20x10 stored, orientation 6 (rotate 90° clockwise to display): 10x20 once decoded.
    const jpeg = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#fff' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await loadInputImage(new Uint8Array(jpeg));
    expect([img.width, img.height]).toEqual([10, 20]);
  });

  it('labels unnamed inputs of a batch by index', () => {
    expect(inputLabel('a/b.png', 3)).toBe('a/b.png');
    expect(inputLabel(new Uint8Array(1), 3)).toBe('<buffer #3>');
    expect(inputLabel({ data: new Uint8Array(3), width: 1, height: 1 }, 2)).toBe('<raw 1x1 #2>');
  });
});

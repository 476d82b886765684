// Issue 9, defects 2-4: hostile input images. Formats are sniffed from the bytes (raster only: an SVG
// would render a sibling file into the "photo"), paths must be regular files (a FIFO is never opened),
// and width x height is bounded from the header before anything is decoded.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector } from '../src/detect/detector.js';
import { drawDetections, drawDetectionsOriented } from '../src/detect/draw.js';
import { loadInputImage, loadModelInput } from '../src/detect/input.js';
import { letterboxRgb } from '../src/detect/letterbox.js';
import { InputImageError } from '../src/errors.js';
import { sniffImageFormat } from '../src/image/format.js';
import { decodeRgb, DEFAULT_MAX_INPUT_PIXELS, orientRgb } from '../src/image/pixels.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hostile-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error a promise rejects with, or a marker when it resolves or takes longer than `ms`. */
async function outcome(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms)));
  try {
    return await Promise.race([p.then(() => 'resolved', (e: unknown) => e), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function expectInputError(err: unknown, code: string, ...inMessage: string[]): void {
  expect(err, String(err)).toBeInstanceOf(InputImageError);
  expect((err as InputImageError).code, (err as Error).message).toBe(code);
  for (const s of inMessage) expect((err as Error).message).toContain(s);
}

const red = () => sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } });

describe('formats: raster only, recognised by their bytes', () => {
  it('PNG, JPEG, WebP, AVIF, TIFF and GIF decode, whatever the file is called', async () => {
    const encoders = {
      png: (s: Sharp) => s.png(),
      jpeg: (s: Sharp) => s.jpeg(),
      webp: (s: Sharp) => s.webp(),
      avif: (s: Sharp) => s.avif(),
      tiff: (s: Sharp) => s.tiff(),
      gif: (s: Sharp) => s.gif(),
    };
    for (const [name, encode] of Object.entries(encoders)) {
      const bytes = await encode(red()).toBuffer();
      expect(sniffImageFormat(bytes), name).toEqual({ accepted: true, format: name });
      const file = path.join(dir, `${name}-image.svg`); // the extension is ignored
      await writeFile(file, bytes);
      const rgb = await loadInputImage(file);
      expect([rgb.width, rgb.height, rgb.data[0]! > 200, rgb.data[1]! < 60], name).toEqual([32, 32, true, true]);
    }
  });

  it('an SVG that embeds a sibling file or a data URI is refused before rendering, naming the input and the format', async () => {
    await red().png().toFile(path.join(dir, 'secret.png'));
    const dataUri = `data:image/png;base64,${(await red().png().toBuffer()).toString('base64')}`;
    for (const href of ['secret.png', `file://${path.join(dir, 'secret.png')}`, dataUri]) {
      const svg = `<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="32"><image href="${href}" xlink:href="${href}" width="32" height="32"/></svg>`;
      const file = path.join(dir, 'photo.png');
      await writeFile(file, svg);
      expectInputError(await outcome(loadInputImage(file)), 'INPUT_FORMAT_UNSUPPORTED', file, 'SVG');
      expectInputError(await outcome(loadInputImage(new TextEncoder().encode(svg), 'upload')), 'INPUT_FORMAT_UNSUPPORTED', 'upload', 'SVG');
    }
  });

  it('PDF, HEIC, gzip (SVGZ), BMP, HTML and plain text are refused with the detected format', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(64)]);
    const cases: [string, Uint8Array][] = [
      ['PDF', Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\n')],
      ['HEIF/HEIC', heic],
      ['gzip', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])],
      ['BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])],
      ['XML/HTML markup', Buffer.from('<!doctype html><html><body>hi</body></html>')],
      ['text', Buffer.from('this is not an image\n')],
      ['unknown (first bytes 00 01 02', Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8])],
    ];
    for (const [format, bytes] of cases) {
      expectInputError(await outcome(loadInputImage(bytes, `in-${format}`)), 'INPUT_FORMAT_UNSUPPORTED', `in-${format}`, format);
    }
  });

  it('the detector refuses an SVG the same way (no faces found in a rendered sibling)', async () => {
    const detector = await createDetector({ backend: 'reference' });
    try {
      const file = path.join(dir, 'face.jpg');
      await writeFile(file, '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><image href="secret.png" width="64" height="64"/></svg>');
      const [entry] = await detector.detectBatch([file]);
      expect(entry!.ok).toBe(false);
      expectInputError(!entry!.ok && entry!.error, 'INPUT_FORMAT_UNSUPPORTED', file, 'SVG');
    } finally {
      await detector.dispose();
    }
  });
});

describe('paths that are not regular files are refused before they are opened', () => {
  it.skipIf(process.platform === 'win32')('a FIFO: INPUT_NOT_A_FILE in well under a second, never opened (no writer ever comes)', async () => {
    const fifo = path.join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const t0 = performance.now();
    const err = await outcome(loadInputImage(fifo), 2000);
    const ms = performance.now() - t0;
    expectInputError(err, 'INPUT_NOT_A_FILE', fifo, 'FIFO');
    expect(ms).toBeLessThan(500);
  });

  it('a directory, a character device, a missing file', async () => {
    expectInputError(await outcome(loadInputImage(dir)), 'INPUT_NOT_A_FILE', dir, 'directory');
    if (process.platform !== 'win32') expectInputError(await outcome(loadInputImage('/dev/null')), 'INPUT_NOT_A_FILE', '/dev/null', 'character device');
    const missing = path.join(dir, 'nope.png');
    expectInputError(await outcome(loadInputImage(missing)), 'INPUT_NOT_FOUND', missing);
    const under = path.join(dir, 'secret.png', 'x.png'); // a file used as a folder
    await red().png().toFile(path.join(dir, 'secret.png'));
    expectInputError(await outcome(loadInputImage(under)), 'INPUT_NOT_FOUND', under);
  });
});

/** A real small PNG/JPEG whose header is patched to claim `w` x `h` (the pixel data stays tiny). */
async function lyingHeader(kind: 'png' | 'jpeg', w: number, h: number): Promise<Buffer> {
  const buf = Buffer.from(await (kind === 'png' ? red().png() : red().jpeg()).toBuffer());
  if (kind === 'png') {
    // IHDR is the first chunk: length(4) type(4) at 8, width at 16, height at 20, CRC over type+data at 29.
    buf.writeUInt32BE(w, 16);
    buf.writeUInt32BE(h, 20);
    buf.writeUInt32BE(crc32(buf.subarray(12, 29)), 29);
    return buf;
  }
  for (let p = 2; p < buf.length; ) {
    const marker = buf[p + 1]!;
    const len = buf.readUInt16BE(p + 2);
    if (marker >= 0xc0 && marker <= 0xc2) {
      buf.writeUInt16BE(h, p + 5);
      buf.writeUInt16BE(w, p + 7);
      return buf;
    }
    p += 2 + len;
  }
  throw new Error('no SOF marker');
}

describe('decompression bombs are bounded from the header', () => {
  for (const kind of ['png', 'jpeg'] as const) {
    it(`a ${kind.toUpperCase()} claiming 60000x60000: INPUT_TOO_LARGE quickly, without allocating the pixels`, async () => {
      const bytes = await lyingHeader(kind, 60000, 60000);
      const file = path.join(dir, `bomb.${kind}`);
      await writeFile(file, bytes);
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      const err = await outcome(loadInputImage(file));
      const ms = performance.now() - t0;
      expectInputError(err, 'INPUT_TOO_LARGE', file, '60000x60000', '3600.0 megapixels', `limit of ${DEFAULT_MAX_INPUT_PIXELS / 1e6} megapixels`);
      expect(ms).toBeLessThan(1000);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 2 ** 20);
    });
  }

  it('the limit is configurable: maxInputPixels on the detector, and it counts width x height', async () => {
    const file = path.join(dir, 'ok-40x30.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#888' } }).png().toFile(file);
    expectInputError(await outcome(decodeRgb(file, file, { maxInputPixels: 1199 })), 'INPUT_TOO_LARGE', '40x30', 'limit of 0.001199 megapixels');
    expect((await decodeRgb(file, file, { maxInputPixels: 1200 })).width).toBe(40);
    const detector = await createDetector({ backend: 'reference', maxInputPixels: 1000 });
    try {
      expectInputError(await outcome(detector.detect(file)), 'INPUT_TOO_LARGE', file);
    } finally {
      await detector.dispose();
    }
    await expect(createDetector({ backend: 'reference', maxInputPixels: 0 })).rejects.toThrow(/maxInputPixels must be a positive integer/);
  });
});

describe('EXIF orientation without a second full-size copy', () => {
  // A 7x5 image with distinct pixels, so any wrong flip or turn shows.
  const stored = async (orientation: number) => {
    const raw = Uint8Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 37) % 251);
    return sharp(raw, { raw: { width: 7, height: 5, channels: 3 } }).png().withMetadata({ orientation }).toBuffer();
  };

  it('orientRgb on the stored pixels equals sharp.rotate() for all eight orientations', async () => {
    for (let o = 1; o <= 8; o++) {
      const png = await stored(o);
      const deferred = await decodeRgb(png, `o${o}`, { orientation: 'defer' });
      expect(deferred.orientation, `orientation ${o}`).toBe(o);
      const applied = await decodeRgb(png, `o${o}`);
      const mine = orientRgb(deferred, o);
      expect([mine.width, mine.height], `orientation ${o}`).toEqual([applied.width, applied.height]);
      expect(Buffer.from(mine.data).equals(Buffer.from(applied.data)), `orientation ${o}`).toBe(true);
    }
  });

  it('shrinking then rotating gives the model input that rotating then shrinking gives (within 1 level)', async () => {
    const noise = Uint8Array.from({ length: 300 * 200 * 3 }, (_, i) => (Math.sin(i * 0.001) * 100 + 128 + ((i * 7919) % 23)) & 255);
    for (const o of [3, 6, 8]) {
      const png = await sharp(noise, { raw: { width: 300, height: 200, channels: 3 } }).png().withMetadata({ orientation: o }).toBuffer();
      const lean = await loadModelInput(png, 'x', 128, 128);
      const { image, transform } = await letterboxRgb(await decodeRgb(png), 128, 128);
      expect(lean.transform).toEqual(transform);
      expect([lean.width, lean.height]).toEqual(o === 3 ? [300, 200] : [200, 300]);
      let worst = 0;
      for (let i = 0; i < image.data.length; i++) worst = Math.max(worst, Math.abs(image.data[i]! - lean.model.data[i]!));
      expect(worst, `orientation ${o}`).toBeLessThanOrEqual(1);
    }
  });

  it('an annotated PNG drawn on the stored pixels and turned while encoding equals drawing on the turned image', async () => {
    const face = {
      box: { xMin: 2.31, yMin: 3.13, xMax: 9.62, yMax: 7.74, width: 9.62 - 2.31, height: 7.74 - 3.13 },
      keypoints: { rightEye: { x: 3.23, y: 4.17 }, leftEye: { x: 8.41, y: 4.33 }, nose: { x: 5.72, y: 5.26 }, mouth: { x: 5.61, y: 6.93 }, rightEar: { x: 2.64, y: 4.62 }, leftEar: { x: 9.13, y: 4.91 } },
      score: 0.9,
    };
    // Coordinates off round values: a pixel centre exactly on an edge could fall either side after a flip.
    const raw = Uint8Array.from({ length: 13 * 11 * 3 }, (_, i) => (i * 53) % 241);
    for (let o = 1; o <= 8; o++) {
      const stored = { data: Uint8Array.from(raw), width: 13, height: 11 };
      const displayed = orientRgb({ data: Uint8Array.from(raw), width: 13, height: 11 }, o);
      const a = await sharp(await drawDetectionsOriented(stored, o, [face])).raw().toBuffer();
      const b = await sharp(await drawDetections(displayed, [face])).raw().toBuffer();
      expect(a.equals(b), `orientation ${o}`).toBe(true);
      expect(b.equals(Buffer.from(displayed.data)), 'something was drawn').toBe(false);
    }
  });

  it('a raw image can carry its EXIF orientation: letterboxed as displayed, and 8-bit RGB is not copied', async () => {
    const raw = Uint8Array.from({ length: 300 * 200 * 3 }, (_, i) => (i * 31) % 253);
    const turned = orientRgb({ data: raw, width: 300, height: 200 }, 6);
    const a = await loadModelInput({ data: raw, width: 300, height: 200, orientation: 6 }, 'raw', 128, 128);
    const b = await loadModelInput({ data: turned.data, width: 200, height: 300 }, 'turned', 128, 128);
    expect([a.width, a.height]).toEqual([200, 300]);
    expect(a.transform).toEqual(b.transform);
    let worst = 0;
    for (let i = 0; i < a.model.data.length; i++) worst = Math.max(worst, Math.abs(a.model.data[i]! - b.model.data[i]!));
    expect(worst).toBeLessThanOrEqual(1);
    expect((await loadInputImage({ data: raw, width: 300, height: 200 })).data.buffer).toBe(raw.buffer);
    expect((await loadInputImage({ data: raw, width: 300, height: 200, orientation: 6 })).width).toBe(200);
    expectInputError(await outcome(loadModelInput({ data: raw, width: 300, height: 200, orientation: 9 }, 'r9', 128, 128)), 'IMAGE_ORIENTATION', 'r9');
  });
});

// Issue 9, defect 12: the memory an accepted image takes, measured as the peak resident memory a fresh
// process adds while detecting faces in a 16-megapixel image (test/hostile-memory-probe.ts).
// The README states about 4 bytes per pixel (the 3-byte RGB pixels plus about 1 of decoder and resizer
// working memory; measured 3.7-4.1), the same for an EXIF-rotated photo, and up to about 5 for `detect --out`
// (measured 4.5-5.2 with --out). The encoded file is held as well; it is kept negligible here (smooth images).
// Bounds: at least 2 (the image really was decoded: 3 bytes per pixel, less what libvips's demand-driven
// pipeline frees before the end; 2.92 was seen on a loaded machine), at most 4 + 20%. The code before issue 9
// measured 6.8 for the rotated photo and 8.4-10.6 with --out.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/fixtures.js';

const SIDE = 4000;
let dir: string;
let warmup: string;
const files: Record<string, string> = {};
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hostile-memory-'));
  warmup = path.join(dir, 'warmup.jpg');
  await sharp({ create: { width: 96, height: 64, channels: 3, background: '#765' } }).jpeg().withMetadata({ orientation: 6 }).toFile(warmup);
  const big = () => sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: '#806040' } });
  files.png = path.join(dir, 'big.png');
  files.rotatedJpeg = path.join(dir, 'big-rotated.jpg');
  await big().png().toFile(files.png);
  await big().jpeg().withMetadata({ orientation: 6 }).toFile(files.rotatedJpeg);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function probe(file: string, mode: 'detect' | 'out', preprocess: 'exact' | 'fast' = 'exact'): { pixels: number; bytesPerPixel: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(REPO_ROOT, 'test', 'hostile-memory-probe.ts'), file, mode, warmup, preprocess], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { pixels: number; bytesPerPixel: number };
}

describe('memory per pixel of an accepted image (README: about 4 bytes per pixel)', () => {
  for (const [name, label] of [
    ['png', 'a 16 MP PNG'],
    ['rotatedJpeg', 'a 16 MP JPEG with EXIF orientation 6 (shrunk before it is rotated: no second copy)'],
  ] as const) {
    it(`detect: ${label}`, () => {
      const { pixels, bytesPerPixel } = probe(files[name]!, 'detect');
      expect(pixels).toBe(SIDE * SIDE);
      expect(bytesPerPixel).toBeGreaterThanOrEqual(2);
      expect(bytesPerPixel).toBeLessThanOrEqual(4 * 1.2);
    });
  }

  it('detect, fast preprocessing (the default): the 16 MP JPEG is shrunk while it is decoded, never held whole', () => {
    const { bytesPerPixel } = probe(files.rotatedJpeg!, 'detect', 'fast');
    expect(bytesPerPixel).toBeLessThan(1);
  });

  it('detect --out on the rotated JPEG: decoded once, drawn into those pixels, turned while encoding', () => {
    const { bytesPerPixel } = probe(files.rotatedJpeg!, 'out');
    expect(bytesPerPixel).toBeGreaterThanOrEqual(2);
    // Encoding the turned PNG adds the encoder's buffers; repeated runs measured 4.5-5.2 (allocator and
    // libvips thread timing vary), so the README states "up to about 5" for --out and the bound is 5 + 20%.
    expect(bytesPerPixel).toBeLessThanOrEqual(5 * 1.2);
  });
});

// The `detect` subcommand in-process: JSON lines per image, exit codes, annotated PNGs.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/commands/detect.js';
import { seedDir } from '../src/fixtures.js';
import { captureConsole } from './helpers/console.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'detect-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  return captureConsole(run, argv);
}

describe('blazeface detect', () => {
  it('usage errors exit 2 without loading a model', async () => {
    expect((await capture([])).code).toBe(2);
    expect((await capture(['x.png', '--nms', 'greedy'])).err.join('\n')).toMatch(/--nms: expected blend or mediapipe/);
    expect((await capture(['x.png', '--min-score', 'abc'])).code).toBe(2);
    expect((await capture(['x.png', '--backend', 'gpu'])).code).toBe(2);
    expect((await capture(['x.png', '--frobnicate'])).code).toBe(2);
  });

  it('prints one JSON record per image, exits 1 when an image fails, writes annotated PNGs', async () => {
    const seed = seedDir();
    const good = seed ? path.join(seed, '1face.png') : path.join(dir, 'grey.png');
    if (!seed) await sharp({ create: { width: 160, height: 90, channels: 3, background: '#777' } }).png().toFile(good);
    const bad = path.join(dir, 'text.png');
    await writeFile(bad, 'plain text');
    const outDir = path.join(dir, 'out');
    const { code, out } = await capture([good, bad, '--backend', 'reference', '--min-score', '0.75', '--json', '--out', outDir]);
    expect(code).toBe(1);
    expect(out).toHaveLength(2);
    const [a, b] = out.map((l) => JSON.parse(l) as Record<string, any>);
    expect(a!.image).toBe(good);
    expect(a!.faces).toHaveLength(seed ? 1 : 0);
    if (seed) {
      expect(a!.faces[0].detection).toHaveLength(17);
      expect(Object.keys(a!.faces[0].keypoints)).toEqual(['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar']);
    }
    expect(b).toMatchObject({ image: bad, error: { code: 'INPUT_FORMAT_UNSUPPORTED' } });
    expect(await readdir(outDir)).toEqual([`${path.basename(good, '.png')}.png`]);
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { run, summary } from '../src/cli/commands/anchors.js';
import { generateAnchors } from '../src/anchors/ssd-anchors-calculator.js';
import { seedDir } from '../src/fixtures.js';
import { readNpyFile } from '../src/npy.js';
import { PRESETS } from '../src/presets/index.js';
import { sha256Hex } from '../src/util/fs.js';
import { readManifest } from '../src/artifacts/manifest.js';
import { captureConsole } from './helpers/console.js';

const work = mkdtempSync(path.join(tmpdir(), 'anchors-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function capture(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  return captureConsole(run, argv);
}

describe('blazeface anchors', () => {
  it('has a summary', () => expect(summary).toMatch(/anchor/));

  it('writes one .npy per preset, one line each with count and sha256, deterministically', async () => {
    const dir = path.join(work, 'all');
    const first = await capture(['--out', dir]);
    expect(first.code).toBe(0);
    const names = Object.keys(PRESETS).sort();
    expect(readdirSync(dir).sort()).toEqual(names.map((n) => `${n}.npy`));
    expect(first.out).toHaveLength(names.length);
    for (const [i, name] of names.entries()) {
      const bytes = readFileSync(path.join(dir, `${name}.npy`));
      const table = await readNpyFile(path.join(dir, `${name}.npy`));
      const expected = generateAnchors(PRESETS[name as keyof typeof PRESETS].anchors);
      expect(table.shape).toEqual([expected.length / 4, 4]);
      expect(Array.from(table.data)).toEqual(Array.from(expected));
      const line = first.out[i]!;
      expect(line.startsWith(name)).toBe(true);
      expect(line).toContain(` ${expected.length / 4} anchors`);
      expect(line).toContain(`sha256:${sha256Hex(bytes).slice(0, 16)}`);
    }
    const firstBytes = names.map((n) => readFileSync(path.join(dir, `${n}.npy`)));
    const second = await capture(['--out', dir, '--preset', 'front', '--preset', 'back']);
    expect(second.code).toBe(0);
    expect(second.out.map((l) => l.split(' ')[0])).toEqual(['back', 'front']);
    expect(second.out).toEqual(first.out.filter((l) => /^(back|front) /.test(l)));
    names.forEach((n, i) => expect(readFileSync(path.join(dir, `${n}.npy`)).equals(firstBytes[i]!)).toBe(true));
  });

  it('--preset limits the output', async () => {
    const dir = path.join(work, 'one');
    const { code, out } = await capture(['--preset', 'full_range', '--out', dir]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^full_range +2304 anchors  sha256:[0-9a-f]{16}  /);
    expect(readdirSync(dir)).toEqual(['full_range.npy']);
  });

  it('rejects unknown presets and options with exit code 2, writing nothing', async () => {
    const dir = path.join(work, 'bad');
    const a = await capture(['--preset', 'nope', '--out', dir]);
    expect(a.code).toBe(2);
    expect(a.err.join('\n')).toMatch(/unknown preset 'nope'; expected one of short_range/);
    const b = await capture(['--frobnicate']);
    expect(b.code).toBe(2);
    expect(b.err.join('\n')).toMatch(/usage: blazeface anchors/);
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  const seed = seedDir();
  it.skipIf(!seed)(`front.npy is byte-identical to the seed's anchors.npy${seed ? '' : ' [skipped: needs ../shared/seed]'}`, async () => {
    const dir = path.join(work, 'seed');
    expect((await capture(['--preset', 'front', '--out', dir])).code).toBe(0);
    expect(readFileSync(path.join(dir, 'front.npy')).equals(readFileSync(path.join(seed!, 'anchors.npy')))).toBe(true);
  });

  it('with --artifacts, records every table in <root>/manifest.json next to existing preset entries', async () => {
    const root = path.join(work, 'root');
    expect((await capture(['--artifacts', root, '--preset', 'front'])).code).toBe(0);
    expect((await capture(['--artifacts', root, '--preset', 'back'])).code).toBe(0);
    const manifest = readManifest(root);
    expect(manifest.files.map((f) => f.path)).toEqual(['anchors/back.npy', 'anchors/front.npy']);
    for (const f of manifest.files) {
      const bytes = readFileSync(path.join(root, f.path));
      expect(f.sha256).toBe(sha256Hex(bytes));
      expect(f.size).toBe(bytes.byteLength);
    }
    expect((await capture(['--artifacts', root, '--out', root])).code).toBe(2);
  });
});

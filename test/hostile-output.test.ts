// Issue 9, defects 8 and 10: `detect --out` never loses data (an input overwritten, two results written
// to one name, an earlier result replaced silently) and never hangs on a target that is not a file.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../src/cli/commands/detect.js';
import { outputNames, planOutputs, writeOutput } from '../src/detect/output-paths.js';
import { OutputPathError } from '../src/errors.js';
import { writeFileAtomic } from '../src/util/fs.js';

let dir: string;
let grey: Buffer;
let dark: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hostile-output-'));
  grey = await sharp({ create: { width: 160, height: 90, channels: 3, background: '#777' } }).png().toBuffer();
  dark = await sharp({ create: { width: 90, height: 160, channels: 3, background: '#222' } }).png().toBuffer();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function capture(argv: string[]): Promise<{ code: number; out: string[]; err: string[]; ms: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const t0 = performance.now();
  try {
    return { code: await run([...argv, '--backend', 'reference', '--json']), out, err, ms: performance.now() - t0 };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

async function fresh(name: string): Promise<string> {
  const d = path.join(dir, name);
  await mkdir(d, { recursive: true });
  return d;
}

describe('detect --out never loses data', () => {
  it('--out in the input folder: an input with the output name is never overwritten (exit 2, nothing written)', async () => {
    const d = await fresh('same-folder');
    const photo = path.join(d, 'photo.png');
    await writeFile(photo, grey);
    const r = await capture([photo, '--out', d]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/OUTPUT_IS_INPUT: .*photo\.png: is one of the input images/);
    expect((await readFile(photo)).equals(grey)).toBe(true);
    // --overwrite does not change that.
    expect((await capture([photo, '--out', d, '--overwrite'])).code).toBe(2);
    expect((await readFile(photo)).equals(grey)).toBe(true);
    // Nor does another spelling of the input's path.
    expect((await capture([path.join(d, '..', 'same-folder', 'photo.png'), '--out', path.join(d, '.')])).code).toBe(2);
    const q = path.join(d, 'q.jpg');
    await writeFile(q, await sharp(grey).jpeg().toBuffer());
    symlinkSync(photo, path.join(d, 'q.png'));
    // As an input too, the photo behind the symlink is refused; otherwise --overwrite replaces the link, never what it points to.
    expect((await capture([q, photo, '--out', d, '--overwrite'])).err.join('\n')).toMatch(/OUTPUT_IS_INPUT: .*q\.png/);
    expect((await capture([q, '--out', d, '--overwrite'])).code).toBe(0);
    expect((await readFile(photo)).equals(grey)).toBe(true);
    expect(lstatSync(path.join(d, 'q.png')).isFile()).toBe(true);
  });

  it('inputs with the same base name from different folders get distinct outputs; every result is kept', async () => {
    const a = await fresh('a'), b = await fresh('b'), c = await fresh('c');
    await writeFile(path.join(a, 'x.png'), grey);
    await writeFile(path.join(b, 'x.png'), dark);
    await writeFile(path.join(c, 'x-2.png'), grey);
    const out = path.join(dir, 'out-dupes');
    const inputs = [path.join(a, 'x.png'), path.join(b, 'x.png'), path.join(c, 'x-2.png')];
    expect(outputNames(out, inputs).map((f) => path.basename(f))).toEqual(['x.png', 'x-3.png', 'x-2.png']);
    const r = await capture([...inputs, '--out', out]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['x-2.png', 'x-3.png', 'x.png']);
    const size = async (f: string) => {
      const m = await sharp(path.join(out, f)).metadata();
      return [m.width, m.height];
    };
    expect(await size('x.png')).toEqual([160, 90]);
    expect(await size('x-3.png')).toEqual([90, 160]); // b/x.png's result, not lost
  });

  it('an existing output is not replaced without --overwrite (exit 2 up front, file unchanged); with it, it is', async () => {
    const d = await fresh('rerun');
    const photo = path.join(d, 'in.png');
    await writeFile(photo, grey);
    const out = path.join(d, 'out');
    expect((await capture([photo, '--out', out])).code).toBe(0);
    const target = path.join(out, 'in.png');
    await writeFile(target, 'an earlier result');
    const again = await capture([photo, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.out).toEqual([]); // refused before detecting
    expect(again.err.join('\n')).toMatch(/OUTPUT_EXISTS: .*in\.png: already exists \(pass --overwrite/);
    expect(await readFile(target, 'utf8')).toBe('an earlier result');
    expect((await capture([photo, '--out', out, '--overwrite'])).code).toBe(0);
    expect((await sharp(target).metadata()).format).toBe('png');
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an output that appears between planning and writing is not replaced: OUTPUT_EXISTS for that image', async () => {
    const d = await fresh('race');
    const plan = await planOutputs(path.join(d, 'out'), [path.join(d, 'p.png')]);
    await mkdir(path.join(d, 'out'));
    await writeFile(plan.files[0]!, 'someone else');
    const err = await writeOutput(plan, 0, grey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputPathError);
    expect((err as OutputPathError).code).toBe('OUTPUT_EXISTS');
    expect(await readFile(plan.files[0]!, 'utf8')).toBe('someone else');
    expect((await readdir(path.join(d, 'out'))).sort()).toEqual(['p.png']); // no temporary file left
  });

  it('a failed atomic write leaves no temporary file', async () => {
    const d = await fresh('atomic');
    await mkdir(path.join(d, 'target.png')); // rename() onto a directory fails
    await expect(writeFileAtomic(path.join(d, 'target.png'), grey)).rejects.toThrow();
    await writeFile(path.join(d, 'kept.png'), 'old');
    await expect(writeFileAtomic(path.join(d, 'kept.png'), grey, { replace: false })).rejects.toThrow(/EEXIST/);
    expect(await readFile(path.join(d, 'kept.png'), 'utf8')).toBe('old');
    expect((await readdir(d)).sort()).toEqual(['kept.png', 'target.png']);
  });
});

describe.skipIf(process.platform !== 'linux')('detect --out refuses targets that are not files, fast', () => {
  for (const out of ['/proc', '/proc/self', '/proc/blazeface-new-folder', '/sys/kernel', '/dev', '/dev/pts']) {
    it(`--out ${out}: OUTPUT_NOT_WRITABLE, exit 2, in well under a second`, async () => {
      if (!existsSync(out.replace('/blazeface-new-folder', ''))) return;
      const photo = path.join(await fresh('proc'), 'p.png');
      await writeFile(photo, grey);
      const r = await capture([photo, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(new RegExp(`OUTPUT_NOT_WRITABLE: --out ${out}: .* not a real filesystem`));
      expect(r.ms).toBeLessThan(1000);
    });
  }

  it('a FIFO where the output goes: OUTPUT_NOT_WRITABLE, never opened', async () => {
    const d = await fresh('fifo');
    const photo = path.join(d, 'p.jpg');
    await writeFile(photo, await sharp(grey).jpeg().toBuffer());
    const out = path.join(d, 'out');
    await mkdir(out);
    execFileSync('mkfifo', [path.join(out, 'p.png')]);
    for (const flags of [[], ['--overwrite']]) {
      const r = await capture([photo, '--out', out, ...flags]);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toMatch(/OUTPUT_NOT_WRITABLE: .*p\.png: exists and is a FIFO/);
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it('--out naming a regular file, or a folder below one', async () => {
    const d = await fresh('file-as-dir');
    const photo = path.join(d, 'p.png');
    await writeFile(photo, grey);
    expect((await capture([photo, '--out', photo])).err.join('\n')).toMatch(/OUTPUT_NOT_WRITABLE: --out .*p\.png: is a regular file, not a directory/);
    expect((await capture([photo, '--out', path.join(photo, 'sub')])).err.join('\n')).toMatch(/OUTPUT_NOT_WRITABLE: --out .*sub: cannot be created \(.*p\.png is a regular file\)/);
  });
});

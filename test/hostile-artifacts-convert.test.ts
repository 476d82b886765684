// Hostile input, issue 9 defect 6: `convert` killed (SIGKILL) at random moments must leave the previous
// manifest and every file it lists usable, and a later run must remove what the killed runs left.
// Each run flips the tfjs weight storage (float16 <-> float32), so every run really replaces files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACTS_ROOT, readManifest, verifyPresetArtifacts } from '../src/artifacts/manifest.js';
import { REPO_ROOT } from '../src/fixtures.js';
import { mulberry32 } from '../src/util/random.js';

const PRESETS = ['short_range', 'full_range'];
const KILLS = 16;

let root = '';

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'blazeface-kill-'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

// mulberry32 (src/util/random.ts), so the kill moments are the same on every run of the test.
const prng = mulberry32;

function convertArgs(dtype: 'float16' | 'float32'): string[] {
  return ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'convert', '--out', root, '--preset', PRESETS.join(','), '--tfjs-weights', dtype];
}

/**
 * Start convert; once it announces that it starts writing the files of its `writeIndex`-th preset
 * (0 or 1), wait `delayMs` and SIGKILL it.
 */
function convertKilledAfter(dtype: 'float16' | 'float32', writeIndex: number, delayMs: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, convertArgs(dtype), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let timer: NodeJS.Timeout | null = null;
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && (out.match(/^ {2}writing \d+ files/gm) ?? []).length > writeIndex) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

async function leftovers(): Promise<string[]> {
  const all = (await readdir(root, { recursive: true })).map(String);
  return all.filter((f) => f.split(path.sep).some((seg) => seg.endsWith('.tmp') || seg.endsWith('.next')));
}

describe('convert interrupted by SIGKILL', () => {
  it(`keeps the manifest and every listed file intact over ${KILLS} kills, then a clean run leaves no temporary file`, async () => {
    const first = spawnSync(process.execPath, convertArgs('float16'), { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    const random = prng(20261203);
    let killedMidRun = 0;
    let leftoverRuns = 0;
    let stagingListed = 0;
    let replaced = 0;
    let listing = JSON.stringify(readManifest(root).presets);
    for (let i = 0; i < KILLS; i++) {
      // Increasing delays from the moment a preset's files start being written spread the kills over
      // the writes of both folders and both manifest switches (about 50-100 ms per preset here).
      const delay = Math.floor(random() * (5 + i * 8));
      const { killed } = await convertKilledAfter(i % 2 === 0 ? 'float32' : 'float16', Math.floor(i / 2) % 2, delay);
      if (killed) killedMidRun++;
      const manifest = readManifest(root);
      for (const preset of PRESETS) {
        expect(manifest.presets[preset], `kill ${i} (after ${delay} ms): ${preset} still listed`).toBeDefined();
        // Every listed file matches its sha256 and size.
        await verifyPresetArtifacts(root, preset);
      }
      if ((await leftovers()).length > 0) leftoverRuns++;
      if (Object.values(manifest.presets).some((p) => p.files.some((f) => f.path.split('/')[0]!.endsWith('.next')))) stagingListed++;
      if (JSON.stringify(manifest.presets) !== listing) replaced++;
      listing = JSON.stringify(manifest.presets);
    }
    console.log(
      `[kill test] ${killedMidRun} of ${KILLS} runs killed mid-run; after ${replaced} a preset listed new files, after ${stagingListed} it listed its staging folder, after ${leftoverRuns} temporary files or a staging folder were left behind`,
    );
    expect(killedMidRun).toBeGreaterThan(KILLS / 2);

    // A clean run sweeps them all and ends with the same bytes as the committed artifacts.
    const clean = spawnSync(process.execPath, convertArgs('float16'), { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(clean.status, clean.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
    const committed = readManifest(DEFAULT_ARTIFACTS_ROOT);
    const rebuilt = readManifest(root);
    for (const preset of PRESETS) expect(rebuilt.presets[preset]).toEqual(committed.presets[preset]);
  }, 180_000);

  it('sweeps temporary files of processes that are gone, and keeps those of a live one', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' }).pid!;
    const dir = path.join(root, 'short_range', 'tfjs');
    await mkdir(dir, { recursive: true });
    const stale = path.join(dir, `.model.json.${dead}.0badf00d.tmp`);
    const live = path.join(dir, `.model.json.${process.pid}.0badf00d.tmp`);
    await writeFile(stale, 'half-written');
    await writeFile(live, 'being written');
    await mkdir(path.join(root, 'full_range.next'), { recursive: true });
    const run = spawnSync(process.execPath, convertArgs('float16'), { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(path.join(root, 'full_range.next'))).toBe(false);
    expect(existsSync(live)).toBe(true);
    await rm(live);
  }, 60_000);
});

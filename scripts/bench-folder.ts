// Rerunnable harness for `detect` on a folder of real-size photos (issue 11):
//  1. makes N 1920x1280 JPEGs: the seed photos enlarged to 640x640 tiles in 3x2 mosaics (six different
//     arrangements, some mirrored), written into a temporary folder;
//  2. runs the whole CLI under /usr/bin/time -v on N and on N/10 photos: peak RSS ("Maximum resident set
//     size"), wall time, time to the first JSON line;
//  3. measures onnxruntime-node inference alone on full_range in the same run (one 192x192 batch,
//     default session options), and reports CLI seconds per image / inference seconds per image.
// usage: npm run bench:folder -- [--count 1000] [--jobs 2] [--keep]
// The CLI runs from dist/ when `npm run build` has been run (what users run), else through tsx.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { seedDir } from '../src/fixtures.js';
import { toModelBatch } from '../src/image/pixels.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '1000' }, jobs: { type: 'string', default: '2' }, keep: { type: 'boolean', default: false } },
});
const count = Number(values.count);
const jobs = Number(values.jobs);

async function makeMosaics(dir: string): Promise<string[]> {
  const seed = seedDir();
  if (!seed) throw new Error('bench-folder: the seed photos (../shared/seed) are not there');
  const seeds = ['1face.png', '3faces.png', '4faces.png'].map((f) => path.join(seed, f));
  const tiles = await Promise.all(
    seeds.flatMap((s) => [false, true].map((flop) => sharp(s).resize(640, 640, { kernel: 'lanczos3' }).flop(flop).png().toBuffer())),
  );
  const files: string[] = [];
  for (let m = 0; m < 6; m++) {
    const composite = Array.from({ length: 6 }, (_, t) => ({ input: tiles[(t + m) % tiles.length]!, left: (t % 3) * 640, top: Math.floor(t / 3) * 640 }));
    const file = path.join(dir, `mosaic-${m}.jpg`);
    await sharp({ create: { width: 1920, height: 1280, channels: 3, background: '#000' } }).composite(composite).jpeg({ quality: 90 }).toFile(file);
    files.push(file);
  }
  return files;
}

async function makeFolder(root: string, mosaics: string[], n: number): Promise<string> {
  const dir = path.join(root, `photos-${n}`);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) await copyFile(mosaics[i % mosaics.length]!, path.join(dir, `photo-${String(i).padStart(5, '0')}.jpg`));
  return dir;
}

interface CliRun {
  wallSeconds: number;
  firstLineSeconds: number;
  maxRssMb: number;
  lines: number;
  faces: number;
  exit: number;
}

function cliCommand(): string[] {
  const built = path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
  if (existsSync(built)) return [process.execPath, built];
  return [process.execPath, '--import', 'tsx', path.join(PACKAGE_ROOT, 'src', 'cli', 'main.ts')];
}

function runCli(folder: string, timeFile: string): Promise<CliRun> {
  const args = ['-v', '-o', timeFile, ...cliCommand(), 'detect', folder, '--preset', 'full_range', '--backend', 'onnxruntime-node', '--jobs', String(jobs), '--format', 'jsonl'];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let lines = 0;
    let faces = 0;
    let rest = '';
    const child = spawn('/usr/bin/time', args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: PACKAGE_ROOT });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        if (!first) first = performance.now();
        lines++;
        faces += ((JSON.parse(line) as { faces?: unknown[] }).faces ?? []).length;
      }
    });
    child.on('error', reject);
    child.on('close', async (exit) => {
      const wall = (performance.now() - t0) / 1000;
      const time = await readFile(timeFile, 'utf8');
      const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(time)?.[1]);
      resolve({ wallSeconds: wall, firstLineSeconds: (first - t0) / 1000, maxRssMb: rssKb / 1024, lines, faces, exit: exit ?? -1 });
    });
  });
}

/** onnxruntime-node full_range inference alone: median seconds per 1-image batch (default session options). */
async function inferenceSeconds(): Promise<number> {
  const preset = getPreset('full_range');
  const backend = await onnxruntimeNodeBackend.load(await loadModelSource(preset, {}));
  const img = { data: new Uint8Array(preset.inputWidth * preset.inputHeight * 3).fill(128), width: preset.inputWidth, height: preset.inputHeight };
  const batch = toModelBatch([img]);
  for (let i = 0; i < 10; i++) await backend.run(batch);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await backend.run(batch);
    times.push(performance.now() - t);
  }
  await backend.dispose();
  times.sort((a, b) => a - b);
  return times[times.length >> 1]! / 1000;
}

const root = await mkdtemp(path.join(os.tmpdir(), 'bench-folder-'));
try {
  const mosaics = await makeMosaics(root);
  const small = await makeFolder(root, mosaics, Math.max(1, Math.round(count / 10)));
  const big = await makeFolder(root, mosaics, count);
  const infer = await inferenceSeconds();
  const runs: Record<string, CliRun> = {};
  for (const [name, folder] of [[`${Math.round(count / 10)}`, small], [`${count}`, big]] as const) {
    runs[name] = await runCli(folder, path.join(root, `time-${name}.txt`));
  }
  const bigRun = runs[`${count}`]!;
  const perImage = bigRun.wallSeconds / bigRun.lines;
  const report = {
    cli: cliCommand().slice(1).join(' '),
    cores: os.availableParallelism(),
    jobs,
    photos: '1920x1280 JPEG q90, 3x2 mosaics of the seed photos',
    runs,
    inferenceMsPerImage: +(infer * 1000).toFixed(2),
    cliMsPerImage: +(perImage * 1000).toFixed(2),
    ratioCliToInference: +(perImage / infer).toFixed(2),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  if (!values.keep) await rm(root, { recursive: true, force: true });
  else console.error(`kept ${root}`);
}

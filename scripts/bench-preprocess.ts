// Preprocessing before the model: exact (full decode, then letterbox) against fast (one sharp pipeline:
// decode + orient + shrink-on-load, no ICC pass without a profile), next to onnxruntime-node full_range
// inference, all measured in this one run (medians after warm-up, the variants interleaved each
// iteration so machine load hits them alike). Then the tiling figures on a 3840x2560 mosaic of the seed
// photos and their mirror images: true faces (each seed photo's faces found alone), faces found
// without and with tiling 'auto', and the time of each.
//   npm run bench:preprocess -- [--iterations 30] [--warmup 5]
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { createDetector } from '../src/detect/detector.js';
import { loadModelInput } from '../src/detect/input.js';
import { autoTileGrid, planTiles } from '../src/detect/tiling.js';
import { seedDir } from '../src/fixtures.js';
import { toModelBatch } from '../src/image/pixels.js';
import { getPreset } from '../src/presets/index.js';
import { encodeJpeg, seedMosaic, seedPhoto1920 } from '../test/helpers/photos.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '30' }, warmup: { type: 'string', default: '5' } } });
const iterations = Number(values.iterations), warmup = Number(values.warmup);
if (!(Number.isInteger(iterations) && iterations >= 1 && Number.isInteger(warmup) && warmup >= 0)) throw new Error('--iterations >= 1 and --warmup >= 0 must be integers');
const seed = seedDir();
if (!seed) throw new Error('the seed photos are needed (../shared/seed or $BLAZEFACE_SEED_DIR)');
if (!(await onnxruntimeNodeBackend.availability()).available) throw new Error('onnxruntime-node is needed');

const preset = getPreset('full_range');
const M = preset.inputWidth;
const photo = await seedPhoto1920(seed);
const inputs: Record<string, Uint8Array> = {
  'JPEG 1920x1280': new Uint8Array(await encodeJpeg(photo.raw, photo.width, photo.height)),
  'JPEG 1920x1280, Display P3 profile': new Uint8Array(await encodeJpeg(photo.raw, photo.width, photo.height, { icc: 'p3' })),
  'JPEG 1920x1280, EXIF orientation 6': new Uint8Array(await encodeJpeg(photo.raw, photo.width, photo.height, { orientation: 6 })),
  'PNG 128x128 (seed 1face.png)': new Uint8Array(await readFile(path.join(seed, '1face.png'))),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const loadBefore = os.loadavg()[0]!;
const detector = await createDetector({ preset, backend: 'onnxruntime-node' });
const batch = toModelBatch([(await loadModelInput(inputs['PNG 128x128 (seed 1face.png)']!, 'png', M, M)).model]);
const times: Record<string, number[]> = { infer: [] };
for (const name of Object.keys(inputs)) times[`${name} exact`] = [], times[`${name} fast`] = [];
for (let i = 0; i < warmup + iterations; i++) {
  const keep = i >= warmup;
  const t = await timeIt(() => detector.backend.run(batch));
  if (keep) times.infer!.push(t);
  for (const [name, bytes] of Object.entries(inputs)) {
    for (const mode of ['exact', 'fast'] as const) {
      const dt = await timeIt(() => loadModelInput(bytes, name, M, M, { preprocess: mode }));
      if (keep) times[`${name} ${mode}`]!.push(dt);
    }
  }
}
const infer = median(times.infer!);
console.log(`decode + letterbox to ${M}x${M} (full_range), medians of ${iterations} after ${warmup} warm-up, Node ${process.version}, ${os.cpus().length} CPUs, load ${loadBefore.toFixed(2)}`);
console.log(`| input | exact ms | fast ms | exact / fast | fast / inference |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const name of Object.keys(inputs)) {
  const e = median(times[`${name} exact`]!), f = median(times[`${name} fast`]!);
  console.log(`| ${name} | ${e.toFixed(2)} | ${f.toFixed(2)} | ${(e / f).toFixed(2)}x | ${(f / infer).toFixed(2)} |`);
}
console.log(`onnxruntime-node full_range inference, batch 1: ${infer.toFixed(2)} ms\n`);

// Tiling on a mosaic: 3 seed photos + their mirror images, 1280 px each, 3x2 -> 3840x2560.
const mosaic = await seedMosaic(seed, 1280);
const jpg = new Uint8Array(await encodeJpeg(mosaic.raw, mosaic.width, mosaic.height));
let truth = 0;
for (const cell of mosaic.cells) truth += (await detector.detect(path.join(seed, cell.file))).length;
const tiled = await createDetector({ preset, backend: 'onnxruntime-node', tiling: 'auto' });
const grid = autoTileGrid(mosaic.width, mosaic.height, preset);
const runs = 1 + planTiles(mosaic.width, mosaic.height, grid).length;
const plainTimes: number[] = [], tiledTimes: number[] = [];
let plainFound = 0, tiledFound = 0;
const rounds = Math.max(3, Math.ceil(iterations / 5));
for (let i = 0; i < rounds + 1; i++) {
  let faces = 0;
  const a = await timeIt(async () => (faces = (await detector.detect(jpg)).length));
  plainFound = faces;
  const b = await timeIt(async () => (faces = (await tiled.detect(jpg)).length));
  tiledFound = faces;
  if (i > 0) plainTimes.push(a), tiledTimes.push(b);
}
console.log(`mosaic ${mosaic.width}x${mosaic.height} JPEG (seed photos + mirror images, 3x2; faces 2.3 % to 6.7 % of the width), full_range:`);
console.log(`| | faces | detect() ms (median of ${rounds}) | model inputs |`);
console.log(`| --- | --- | --- | --- |`);
console.log(`| true faces (each seed photo alone) | ${truth} | | |`);
console.log(`| whole image only | ${plainFound} | ${median(plainTimes).toFixed(0)} | 1 |`);
console.log(`| --tiles auto (${grid.rows}x${grid.cols}, overlap ${(grid.overlap! * 100).toFixed(0)} %) | ${tiledFound} | ${median(tiledTimes).toFixed(0)} | ${runs} |`);
await Promise.all([detector.dispose(), tiled.dispose()]);

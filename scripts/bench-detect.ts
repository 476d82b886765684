// Where does a detection's time go? Preprocessing (decode PNG + letterbox + normalize) and
// postprocessing (decode boxes + weighted NMS) against onnxruntime-node inference, measured side
// by side in one run on a 128x128 image, with their ratio.
//   npx tsx scripts/bench-detect.ts [--image file.png] [--iterations 300] [--preset short_range] [--artifacts dir]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { generateAnchors } from '../src/anchors/ssd-anchors-calculator.js';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { decodeImage } from '../src/detect/decode.js';
import { loadInputImage } from '../src/detect/input.js';
import { letterboxRgb } from '../src/detect/letterbox.js';
import { seedDir } from '../src/fixtures.js';
import { toModelBatch } from '../src/image/pixels.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    iterations: { type: 'string', default: '300' },
    preset: { type: 'string', default: 'short_range' },
    artifacts: { type: 'string' },
  },
});
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations: expected a positive integer, got ${values.iterations}`);
const preset = getPreset(values.preset);

async function imageBytes(): Promise<{ bytes: Uint8Array; name: string }> {
  const file = values.image ?? (seedDir() ? path.join(seedDir()!, '1face.png') : undefined);
  if (file) return { bytes: new Uint8Array(await readFile(file)), name: file };
  // No seed: a synthetic gradient PNG of the model size, so the PNG decode cost is still real.
  const { inputWidth: w, inputHeight: h } = preset;
  const px = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 251);
  const png = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  return { bytes: new Uint8Array(png), name: `synthetic ${w}x${h} PNG` };
}

function stats(samples: number[]): { median: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

const availability = await onnxruntimeNodeBackend.availability();
if (!availability.available) {
  console.error(`onnxruntime-node is unavailable: ${availability.reason}`);
  process.exit(1);
}
const source = await loadModelSource(preset, { artifactsRoot: values.artifacts });
const backend = await onnxruntimeNodeBackend.load(source);
const anchors = generateAnchors(preset.anchors);
const { bytes, name } = await imageBytes();

const decodePng: number[] = [];
const pre: number[] = [];
const infer: number[] = [];
const post: number[] = [];
let faces = 0;
const warmup = Math.min(20, iterations);
for (let i = 0; i < warmup + iterations; i++) {
  const t0 = performance.now();
  const rgb = await loadInputImage(bytes, name);
  const tDecoded = performance.now();
  const { image } = await letterboxRgb(rgb, preset.inputWidth, preset.inputHeight);
  const batch = toModelBatch([image]);
  const t1 = performance.now();
  const raw = await backend.run(batch);
  const t2 = performance.now();
  faces = decodeImage(raw, anchors, preset, 0, {}).count;
  const t3 = performance.now();
  if (i >= warmup) {
    decodePng.push(tDecoded - t0);
    pre.push(t1 - t0);
    infer.push(t2 - t1);
    post.push(t3 - t2);
  }
}
await backend.dispose();

const p = stats(pre);
const n = stats(infer);
const d = stats(post);
const row = (label: string, s: { median: number; mean: number }) =>
  `${label.padEnd(34)} median ${s.median.toFixed(3).padStart(8)} ms   mean ${s.mean.toFixed(3).padStart(8)} ms`;
console.log(`image: ${name}; preset ${preset.name}; ${backend.version}; ${iterations} iterations after ${warmup} warm-up; ${faces} face(s)`);
console.log(row('preprocess (decode+letterbox+norm)', p));
console.log(row('  of which PNG decode (sharp)', stats(decodePng)));
console.log(row('inference (onnxruntime-node)', n));
console.log(row('decode + NMS', d));
console.log(`ratio decode+NMS / inference:              ${(d.median / n.median).toFixed(4)}`);
console.log(`ratio (preprocess + decode+NMS) / inference: ${((p.median + d.median) / n.median).toFixed(4)}`);

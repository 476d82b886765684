// Where does a detection's time go? onnxruntime-node inference against the work detect() does around
// it, for a 128x128 input, measured side by side in one run, twice: as a pipeline (stages interleaved
// in detect()'s order each iteration) and each stage alone in its own loop; medians after warm-up:
//   (a) inference, batch 1 (onnxruntime-node)
//   (b) preprocessing from decoded RGB: letterbox (identity at model size) + x/127.5-1 into the float batch
//   (c) decode + weighted NMS from the raw outputs, then mapping back to image pixels (facesFromDetections)
//   (d) for information: preprocessing of a 640x480 RGB image (letterbox resize + pad, then normalize)
//   (e) for information: PNG decode of the 128x128 image (image I/O, not preprocessing)
// Verdict: (b + c) / a must stay well under 0.1.
//   npx tsx scripts/bench-detect.ts [--image file.png] [--iterations 500] [--warmup 50] [--preset short_range] [--artifacts dir]
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { generateAnchors } from '../src/anchors/ssd-anchors-calculator.js';
import { onnxruntimeNodeBackend } from '../src/backends/onnxruntime-node.js';
import { decodeImage } from '../src/detect/decode.js';
import { facesFromDetections } from '../src/detect/face.js';
import { loadInputImage } from '../src/detect/input.js';
import { letterboxRgb } from '../src/detect/letterbox.js';
import { seedDir } from '../src/fixtures.js';
import { toModelBatch, type RgbImage } from '../src/image/pixels.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    iterations: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '50' },
    preset: { type: 'string', default: 'short_range' },
    artifacts: { type: 'string' },
  },
});
const count = (name: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${v}`);
  return n;
};
const iterations = count('iterations', values.iterations, 1);
const warmup = count('warmup', values.warmup, 0);
const preset = getPreset(values.preset);
const { inputWidth: W, inputHeight: H } = preset;

/** Deterministic pseudo-random RGB pixels (content does not change the cost of resize or normalize). */
function syntheticRgb(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + ((i / 3) >> 4)) % 251;
  return { data, width, height };
}

async function imageBytes(): Promise<{ bytes: Uint8Array; name: string }> {
  const file = values.image ?? (seedDir() ? path.join(seedDir()!, '1face.png') : undefined);
  if (file) return { bytes: new Uint8Array(await readFile(file)), name: file };
  // No seed: a synthetic PNG of the model size, so the PNG decode row is still a real decode.
  const { data, width, height } = syntheticRgb(W, H);
  const png = await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { bytes: new Uint8Array(png), name: `synthetic ${W}x${H} PNG` };
}

const loadBefore = os.loadavg()[0]!;
const availability = await onnxruntimeNodeBackend.availability();
if (!availability.available) {
  console.error(`onnxruntime-node is unavailable: ${availability.reason}`);
  process.exit(1);
}
const source = await loadModelSource(preset, { artifactsRoot: values.artifacts });
const backend = await onnxruntimeNodeBackend.load(source);
const anchors = generateAnchors(preset.anchors);
const { bytes, name } = await imageBytes();
const rgb = await loadInputImage(bytes, name);
if (rgb.width !== W || rgb.height !== H) {
  throw new Error(`${name} is ${rgb.width}x${rgb.height}; this bench measures the at-model-size path and needs ${W}x${H}`);
}
const wide = syntheticRgb(640, 480);

type Stage = 'infer' | 'pre' | 'post' | 'preWide' | 'png';
const STAGES: readonly Stage[] = ['infer', 'pre', 'post', 'preWide', 'png'];
const LABELS: Record<Stage, string> = {
  infer: '(a) inference, onnxruntime-node, batch 1',
  pre: '(b) preprocess from RGB (letterbox+norm)',
  post: '(c) decode + NMS (+ map to faces)',
  preWide: '(d) info: preprocess 640x480 RGB',
  png: '(e) info: PNG decode 128x128 (sharp)',
};

// One step per stage; each keeps something of its result (the next stage's input, or a checksum) so
// no work can be dropped.
let { image: modelImage, transform } = await letterboxRgb(rgb, W, H);
let modelBatch = toModelBatch([modelImage]);
let raw = await backend.run(modelBatch);
let faces = 0;
let sink = 0;
let pick = 0;
const steps: Record<Stage, () => Promise<void>> = {
  // (b) exactly detect()'s steps after decoding: letterboxRgb (identity at model size), toModelBatch
  // into the detector's reused input buffer.
  pre: async () => {
    ({ image: modelImage, transform } = await letterboxRgb(rgb, W, H));
    modelBatch = toModelBatch([modelImage], modelBatch.data);
  },
  infer: async () => {
    raw = await backend.run(modelBatch);
  },
  // (c) detect()'s steps after the backend: decodeImage (TensorsToDetections + weighted NMS), then faces.
  post: async () => {
    faces = facesFromDetections(decodeImage(raw, anchors, preset, 0, {}), transform).length;
  },
  preWide: async () => {
    sink += toModelBatch([(await letterboxRgb(wide, W, H)).image]).data[pick++ % 1000]!;
  },
  png: async () => {
    sink += (await loadInputImage(bytes, name)).data[pick++ % 1000]!;
  },
};
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const empty = (): Record<Stage, number[]> => ({ infer: [], pre: [], post: [], preWide: [], png: [] });

// Pipeline: per iteration the stages run in detect()'s order (PNG decode, preprocess, inference,
// decode + NMS), then (d); so each stage sees the caches and the runtime's threads as in a real call.
const pipeline = empty();
const ORDER: readonly Stage[] = ['png', 'pre', 'infer', 'post', 'preWide'];
for (let i = 0; i < warmup + iterations; i++) {
  for (const stage of ORDER) {
    const t = performance.now();
    await steps[stage]();
    if (i >= warmup) pipeline[stage].push(performance.now() - t);
  }
  await yieldToLoop();
}
// Isolated: each stage alone in its own loop, the steady-state cost of that code by itself.
const isolated = empty();
for (const stage of STAGES) {
  for (let i = 0; i < warmup + iterations; i++) {
    const t = performance.now();
    await steps[stage]();
    if (i >= warmup) isolated[stage].push(performance.now() - t);
    await yieldToLoop();
  }
}
await backend.dispose();

function stats(samples: number[]): { median: number; p10: number; p90: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const ms = (v: number) => v.toFixed(4).padStart(9);
const cpus = os.cpus();
console.log(`image: ${name}; preset ${preset.name} (${W}x${H}); ${backend.version} (default session options); ${faces} face(s) found`);
console.log(`${cpus.length} CPU(s), ${cpus[0]?.model ?? '?'}; load average before ${loadBefore.toFixed(2)}, after ${os.loadavg()[0]!.toFixed(2)}`);
console.log(`${iterations} iterations after ${warmup} warm-up per table; checksum ${sink.toFixed(2)}`);
let failed = false;
for (const [title, samples] of [
  ['pipeline (stages interleaved in detect() order)', pipeline],
  ['isolated (each stage in its own loop)', isolated],
] as const) {
  const st = Object.fromEntries(STAGES.map((k) => [k, stats(samples[k])])) as Record<Stage, ReturnType<typeof stats>>;
  const a = st.infer.median;
  console.log(`\n${title}`);
  console.log(`${'stage'.padEnd(42)} ${'median ms'.padStart(9)} ${'p10'.padStart(9)} ${'p90'.padStart(9)} ${'mean'.padStart(9)}  ratio to (a)`);
  for (const k of STAGES) {
    const s = st[k];
    console.log(`${LABELS[k].padEnd(42)} ${ms(s.median)} ${ms(s.p10)} ${ms(s.p90)} ${ms(s.mean)}  ${(s.median / a).toFixed(4)}`);
  }
  const b = st.pre.median;
  const c = st.post.median;
  const ratio = (b + c) / a;
  failed ||= !(ratio < 0.1);
  console.log(`(b + c) / a = (${b.toFixed(4)} + ${c.toFixed(4)}) / ${a.toFixed(4)} = ${ratio.toFixed(4)}  -> ${ratio < 0.1 ? 'PASS' : 'FAIL'} (must be < 0.1)`);
}
if (loadBefore > cpus.length / 2) console.log(`\nnote: the machine was busy (load ${loadBefore.toFixed(2)} on ${cpus.length} CPUs); rerun on an idle machine for stable ratios`);
process.exitCode = failed ? 1 : 0;

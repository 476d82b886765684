// The seed's "Inference" notebook as a script: detect faces in one photo, then in the batch of the
// three seed photos, print the detections (the seed's 17 numbers per face) and write the plots.
//   npx tsx notebooks-equivalents/inference.ts [--backend reference] [--preset short_range]
//       [--model-file face_detection_front.tflite] [--min-score 0.75] [--out dir]
// The seed ran its front model at 0.75; by default this runs short_range at the same threshold on the
// reference backend, which needs only the .tflite (no `convert` first).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isBackendName } from '../src/backends/index.js';
import { createDetector } from '../src/detect/detector.js';
import { drawDetections } from '../src/detect/draw.js';
import type { Face } from '../src/detect/face.js';
import { seedDir, SEED_PHOTOS } from '../src/fixtures.js';
import { decodeRgb } from '../src/image/pixels.js';
import type { PresetName } from '../src/presets/types.js';
import { writeFileAtomic } from '../src/util/fs.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'reference' },
    preset: { type: 'string', default: 'short_range' },
    'model-file': { type: 'string' },
    'min-score': { type: 'string', default: '0.75' },
    out: { type: 'string' },
  },
});
if (!isBackendName(values.backend)) throw new Error(`unknown backend '${values.backend}'`);
const seed = seedDir();
if (!seed) {
  console.error('the seed photos are not here (../shared/seed or BLAZEFACE_SEED_DIR); nothing to run');
  process.exit(1);
}
const outDir = values.out ?? (await mkdtemp(path.join(os.tmpdir(), 'blazeface-inference-')));

const detector = await createDetector({
  preset: values.preset as PresetName,
  backend: values.backend,
  modelFile: values['model-file'],
  minScore: Number(values['min-score']),
  nms: 'blend',
});
console.log(`preset ${detector.preset.name}, backend ${detector.backend.name} ${detector.backend.version}, min score ${detector.decodeOptions.minScore}`);

function print(name: string, faces: Face[]): void {
  console.log(`\n${name}: found ${faces.length} face${faces.length === 1 ? '' : 's'}`);
  for (const f of faces) console.log('  [' + f.toArray().map((v) => v.toFixed(4)).join(', ') + ']');
}

async function plot(file: string, faces: Face[], name: string): Promise<void> {
  const target = path.join(outDir, name);
  await writeFileAtomic(target, await drawDetections(await decodeRgb(file), faces));
  console.log(`  plot: ${target}`);
}

try {
  // One image.
  const one = path.join(seed, '1face.png');
  const faces = await detector.detect(one);
  print('1face.png', faces);
  await plot(one, faces, 'single-1face.png');

  // The batch of three, in one backend call.
  const files = SEED_PHOTOS.map((f) => path.join(seed, f));
  const batch = await detector.detectBatch(files);
  for (const [i, entry] of batch.entries()) {
    if (!entry.ok) {
      console.log(`\n${SEED_PHOTOS[i]}: error: ${entry.error.message}`);
      continue;
    }
    print(SEED_PHOTOS[i]!, entry.faces);
    await plot(files[i]!, entry.faces, `batch-${SEED_PHOTOS[i]}`);
  }
  console.log(`\nplots written to ${outDir}`);
} finally {
  await detector.dispose();
}

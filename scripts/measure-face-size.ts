// How small a face each preset finds: the seed photos shrunk into a model-size grey canvas so their faces
// are N model pixels wide, N = 6, 9, ... 75; prints found/expected per N (the faces each photo gives at
// native size are the truth). src/detect/tiling.ts's MIN_FACE_MODEL_PIXELS comes from this table, and
// test/detect-tiling.test.ts checks it.
//   npx tsx scripts/measure-face-size.ts
import { createDetector } from '../src/detect/detector.js';
import { seedDir } from '../src/fixtures.js';
import { faceScaleRows } from '../test/helpers/face-scale.js';

const seed = seedDir();
if (!seed) throw new Error('the seed photos are needed (../shared/seed or $BLAZEFACE_SEED_DIR)');
for (const preset of ['full_range', 'short_range'] as const) {
  const detector = await createDetector({ preset, backend: 'onnxruntime-node' });
  const rows = await faceScaleRows(detector, seed, Array.from({ length: 24 }, (_, i) => 6 + i * 3));
  const byPx = new Map<number, [number, number]>();
  for (const r of rows) {
    const [f, e] = byPx.get(r.facePx) ?? [0, 0];
    byPx.set(r.facePx, [f + r.found, e + r.expected]);
  }
  console.log(`${preset} (face width in model px: found/expected)`);
  console.log([...byPx].map(([px, [f, e]]) => `${px}: ${f}/${e}`).join('  '));
  await detector.dispose();
}

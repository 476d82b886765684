import { createDetector } from '../src/detect/detector.js';
import { seedPhoto1920, encodeJpeg } from '../test/helpers/photos.js';
const seed = '/work/shared/seed';
const m = await seedPhoto1920(seed);
const fast = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node' });
const exact = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node', preprocess: 'exact' });
for (const opts of [{}, { icc: 'p3' as const }, { icc: 'srgb' as const }, { orientation: 6 as const }, { orientation: 3 as const }]) {
  const jpg = new Uint8Array(await encodeJpeg(m.raw, m.width, m.height, opts));
  const a = await exact.detect(jpg), b = await fast.detect(jpg);
  console.log(JSON.stringify(opts), a.length, b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const s = a[i]!.box.width;
    const d = Math.max(Math.abs(a[i]!.box.xMin - b[i]!.box.xMin), Math.abs(a[i]!.box.yMin - b[i]!.box.yMin), Math.abs(a[i]!.box.xMax - b[i]!.box.xMax), Math.abs(a[i]!.box.yMax - b[i]!.box.yMax));
    console.log(`  w ${s.toFixed(1)} corner diff ${(d / s * 100).toFixed(2)}% score ${a[i]!.score.toFixed(4)} ${b[i]!.score.toFixed(4)}`);
  }
}

// The detector on every backend available here: the seed's photos give 1, 3 and 0 faces with short_range,
// minScore 0.75 and the seed's 'blend' NMS, and every face's 17 normalized numbers equal the float64
// reference's within 1e-5. Converted artifacts are loaded through the manifest, as a consumer would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES, type BackendName } from '../src/backends/backend.js';
import { getBackendFactory } from '../src/backends/index.js';
import { createDetector, type BatchEntry } from '../src/detect/detector.js';
import { seedDir, SEED_PHOTOS } from '../src/fixtures.js';
import path from 'node:path';

const SEED = seedDir();
const TOLERANCE = 1e-5;

const available: BackendName[] = [];
const unavailable: string[] = [];
const results = new Map<BackendName, number[][][]>();

async function detectSeedPhotos(backend: BackendName): Promise<number[][][]> {
  const detector = await createDetector({ preset: 'short_range', backend, minScore: 0.75, nms: 'blend' });
  try {
    const entries: BatchEntry[] = await detector.detectBatch(SEED_PHOTOS.map((name) => path.join(SEED!, name)));
    return entries.map((e) => {
      if (!e.ok) throw new Error(`${backend}: ${e.input}: ${e.error.message}`);
      return e.faces.map((f) => f.toArray());
    });
  } finally {
    await detector.dispose();
  }
}

beforeAll(async () => {
  if (!SEED) return;
  for (const name of BACKEND_NAMES) {
    const availability = await (await getBackendFactory(name)).availability();
    if (availability.available) available.push(name);
    else unavailable.push(`${name} (${availability.reason})`);
  }
  for (const name of available) results.set(name, await detectSeedPhotos(name));
}, 300_000);

afterAll(() => {
  if (unavailable.length) console.log(`detect-backends: not available here: ${unavailable.join('; ')}`);
});

describe.skipIf(!SEED)(`detector on every available backend: seed photos${SEED ? '' : ' [skipped: needs ../shared/seed]'}`, () => {
  it('runs on at least the six runtimes that need no optional extra', () => {
    for (const name of ['reference', 'tflite', 'onnxruntime-node', 'onnxruntime-web', 'tfjs-wasm', 'tfjs-cpu'] as const) {
      expect(available, `${name} should be available`).toContain(name);
    }
  });

  it('finds 1, 3 and 0 faces on every backend', () => {
    for (const [name, perImage] of results) expect(perImage.map((faces) => faces.length), name).toEqual([1, 3, 0]);
  });

  it("gives every face's 17 normalized numbers within 1e-5 of the reference", () => {
    const reference = results.get('reference')!;
    for (const [name, perImage] of results) {
      perImage.forEach((faces, image) => {
        faces.forEach((face, k) => {
          // Faces come sorted by score; match each to the reference face whose box centre is nearest.
          const ref = nearest(face, reference[image]!);
          const worst = Math.max(...face.map((v, i) => Math.abs(v - ref[i]!)));
          expect(worst, `${name} / ${SEED_PHOTOS[image]} / face ${k}: max |diff| ${worst.toExponential(2)}`).toBeLessThanOrEqual(TOLERANCE);
        });
      });
    }
  });
});

function nearest(face: number[], candidates: number[][]): number[] {
  const centre = (f: number[]) => [(f[1]! + f[3]!) / 2, (f[0]! + f[2]!) / 2] as const;
  const [x, y] = centre(face);
  let best = candidates[0]!;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const [cx, cy] = centre(c);
    const d = Math.hypot(cx - x, cy - y);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

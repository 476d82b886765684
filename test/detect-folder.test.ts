// detect on folders and globs (issue 11): streaming order, --unordered, --resume, --shard, csv/coco,
// aligned crops, the worker pool against the single-thread detector, a bad file among good ones, and
// bounded memory (inputs pulled lazily, never more than the window in flight).
import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/commands/detect.js';
import { detectMany } from '../src/detect/detect-many.js';
import { createDetector } from '../src/detect/detector.js';
import { cropRect, faceRect } from '../src/detect/crops.js';
import { displayToStored } from '../src/detect/draw.js';
import { enumerateImages, shardOf } from '../src/detect/enumerate.js';
import { Face, KEYPOINT_STYLE } from '../src/detect/face.js';
import { seedDir } from '../src/fixtures.js';
import { captureConsole } from './helpers/console.js';

const seed = seedDir()!;
let dir: string;
let photos: string;
const names = ['a/1face.png', 'a/b/3faces.png', 'c/4faces.png', 'd/1face-copy.jpg'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'detect-folder-'));
  photos = path.join(dir, 'photos');
  for (const n of names) await mkdir(path.dirname(path.join(photos, n)), { recursive: true });
  await copyFile(path.join(seed, '1face.png'), path.join(photos, names[0]!));
  await copyFile(path.join(seed, '3faces.png'), path.join(photos, names[1]!));
  await copyFile(path.join(seed, '4faces.png'), path.join(photos, names[2]!));
  await sharp(path.join(seed, '1face.png')).jpeg().toFile(path.join(photos, names[3]!));
  await writeFile(path.join(photos, 'a', 'notes.txt'), 'not an image, not an image extension');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  return captureConsole(run, argv);
}

const images = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { image: string }).image);
const expected = () => ['a/1face.png', 'a/b/3faces.png', 'c/4faces.png', 'd/1face-copy.jpg'].map((n) => path.join(photos, n));

describe('detect on folders and globs', () => {
  it('walks a folder recursively in name order, keeping image extensions; a quoted glob matches the same', async () => {
    const r = await capture([photos, '--json', '--jobs', '2']);
    expect(r.code).toBe(0);
    expect(images(r.out)).toEqual(expected());
    expect(r.out.map((l) => (JSON.parse(l) as { faces: unknown[] }).faces.length)).toEqual([1, 3, 4, 1]);
    const g = await capture([`${photos}/**/*.{png,jpg}`, '--json', '--jobs', '1']);
    expect(images(g.out)).toEqual(expected());
  }, 60_000);

  it('--unordered yields every image once', async () => {
    const r = await capture([photos, '--json', '--unordered', '--jobs', '2']);
    expect(images(r.out).sort()).toEqual(expected().sort());
  }, 60_000);

  it('a bad file among good ones: an error line, exit 1, the others still reported in order', async () => {
    const bad = path.join(dir, 'bad.jpg');
    await writeFile(bad, 'this is text');
    const r = await capture([path.join(photos, names[0]!), bad, path.join(photos, names[1]!), '--json', '--jobs', '2']);
    expect(r.code).toBe(1);
    const recs = r.out.map((l) => JSON.parse(l) as { image: string; error?: { code: string }; faces?: unknown[] });
    expect(recs.map((x) => x.image)).toEqual([path.join(photos, names[0]!), bad, path.join(photos, names[1]!)]);
    expect(recs[1]!.error?.code).toBe('INPUT_FORMAT_UNSUPPORTED');
    expect(recs[2]!.faces).toHaveLength(3);
  }, 60_000);

  it('--resume skips the images already in --output and completes a cut last line', async () => {
    const out = path.join(dir, 'resume.jsonl');
    const first = await capture([path.join(photos, 'a'), '-o', out, '--jobs', '0']);
    expect(first.code).toBe(0);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect((await capture([photos, '-o', out])).code).toBe(2); // exists: refused without --resume
    await appendFile(out, '{"image":"half-writ'); // a run killed mid-line
    const again = await capture([photos, '-o', out, '--resume', '--jobs', '0']);
    expect(again.code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(images(lines)).toEqual(expected());
  }, 60_000);

  it('--shard i/n: shards are disjoint and cover everything; stable under path prefix and order', async () => {
    const rel = Array.from({ length: 500 }, (_, i) => `dir${i % 7}/img-${i}.jpg`);
    for (const n of [1, 2, 3, 8]) {
      const seen = rel.map((r) => shardOf(r, n));
      expect(seen.every((s) => s >= 0 && s < n)).toBe(true);
      if (n === 8) expect(new Set(seen).size).toBe(8);
    }
    // Relative paths: the same folder under another mount point gives the same keys.
    const keys = async (root: string) => {
      const out: string[] = [];
      for await (const f of enumerateImages([root])) out.push(f.relative);
      return out;
    };
    expect(await keys(photos)).toEqual(names);
    const parts: string[][] = [];
    for (const i of [0, 1, 2]) parts.push(images((await capture([photos, '--json', '--shard', `${i}/3`, '--jobs', '0'])).out));
    const all = parts.flat();
    expect(new Set(all).size).toBe(all.length); // disjoint
    expect(all.sort()).toEqual(expected().sort()); // cover
    expect((await capture([photos, '--shard', '3/3'])).code).toBe(2);
  }, 60_000);

  it('--format csv: a header, one row per face, error rows carry the code', async () => {
    const r = await capture([photos, '--format', 'csv', '--jobs', '0']);
    const [header, ...rows] = r.out;
    expect(header!.split(',').slice(0, 5)).toEqual(['image', 'width', 'height', 'face', 'score']);
    expect(header!.split(',')).toHaveLength(24);
    expect(rows).toHaveLength(1 + 3 + 4 + 1);
    expect(rows.every((row) => row.split(',').length === 24)).toBe(true);
  }, 60_000);

  it('--format coco: images, annotations with bbox [x,y,w,h] and 6 keypoints, the face category', async () => {
    const out = path.join(dir, 'coco.json');
    const r = await capture([photos, '--format', 'coco', '-o', out, '--jobs', '0']);
    expect(r.code).toBe(0);
    const coco = JSON.parse(await readFile(out, 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; bbox: number[]; keypoints: number[]; num_keypoints: number; score: number; category_id: number }[];
      categories: { id: number; name: string; keypoints: string[] }[];
    };
    expect(coco.images.map((i) => i.file_name)).toEqual(expected());
    expect(coco.annotations).toHaveLength(9);
    for (const a of coco.annotations) {
      expect(a.bbox).toHaveLength(4);
      expect(a.bbox[2]).toBeGreaterThan(0);
      expect(a.keypoints).toHaveLength(18);
      expect(a.num_keypoints).toBe(6);
      expect(a.category_id).toBe(1);
    }
    expect(coco.categories[0]!.name).toBe('face');
    expect(coco.categories[0]!.keypoints).toEqual(['right_eye', 'left_eye', 'nose', 'mouth', 'right_ear', 'left_ear']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it('--crops: one upright crop per face; on a rotated photo the eyes come out level', async () => {
    const tilted = path.join(dir, 'tilted.png');
    await sharp(path.join(seed, '1face.png')).resize(384, 384).rotate(-40, { background: '#000' }).png().toFile(tilted);
    const crops = path.join(dir, 'crops');
    const r = await capture([tilted, '--json', '--crops', crops, '--jobs', '1']);
    expect(r.code).toBe(0);
    const [rec] = r.out.map((l) => JSON.parse(l) as { faces: { rollDegrees: number }[] });
    expect(rec!.faces).toHaveLength(1);
    expect(Math.abs(rec!.faces[0]!.rollDegrees)).toBeGreaterThan(30);
    expect(await readdir(crops)).toEqual(['tilted-face1.jpg']);
    // The crop is mostly face: short_range's kind of picture.
    const detector = await createDetector({ preset: 'short_range' });
    try {
      const faces = await detector.detect(path.join(crops, 'tilted-face1.jpg'));
      expect(faces.length).toBeGreaterThanOrEqual(1);
      expect(Math.abs(faces[0]!.rollDegrees)).toBeLessThan(5);
    } finally {
      await detector.dispose();
    }
    // Crops never overwrite without --overwrite.
    expect((await capture([tilted, '--crops', crops, '--jobs', '0'])).code).toBe(1);
    // Annotated JPEGs: one per photo, .jpg, really JPEG, full size.
    const annotated = path.join(dir, 'annotated');
    expect((await capture([photos, '--out', annotated, '--out-format', 'jpeg', '--jobs', '0'])).code).toBe(0);
    expect((await readdir(annotated)).sort()).toEqual(['1face-copy.jpg', '1face.jpg', '3faces.jpg', '4faces.jpg']);
    const meta = await sharp(path.join(annotated, '3faces.jpg')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 128, 128]);
    // PNG: each keypoint is drawn in the HTML report's colour (KEYPOINT_STYLE, one shared constant).
    const png = path.join(dir, 'annotated-png');
    const r3 = await capture([path.join(photos, names[1]!), '--json', '--out', png, '--jobs', '0']);
    const face = (JSON.parse(r3.out[0]!) as { faces: { keypoints: Record<string, { x: number; y: number }> }[] }).faces[0]!;
    const { data, info } = await sharp(path.join(png, '3faces.png')).raw().toBuffer({ resolveWithObject: true });
    for (const style of KEYPOINT_STYLE.slice(0, 2)) {
      const p = face.keypoints[style.name]!;
      const i = (Math.floor(p.y) * info.width + Math.floor(p.x)) * info.channels;
      const hex = `#${[0, 1, 2].map((c) => data[i + c]!.toString(16).padStart(2, '0')).join('')}`;
      expect(hex).toBe(style.colour);
    }
    // The same run with four photos gives one crop per face.
    const many = path.join(dir, 'crops-many');
    await capture([photos, '--crops', many, '--jobs', '2']);
    expect(await readdir(many)).toHaveLength(9);
  }, 60_000);
});

describe('aligned crop geometry', () => {
  it('the eye line comes out horizontal, centred, the person upright, for any roll and EXIF orientation', () => {
    // Two marks (right eye red, left eye blue) on a 200x150 image at a known roll; the crop must put
    // red left of blue on one row, mid-height above the centre.
    for (const deg of [-70, -20, 0, 35, 120]) {
      for (const orientation of [1, 6, 3]) {
        const r = (deg * Math.PI) / 180;
        const c = { x: 100, y: 80 };
        const d = 20; // half the eye distance
        const rightEye = { x: c.x - d * Math.cos(r), y: c.y - d * Math.sin(r) };
        const leftEye = { x: c.x + d * Math.cos(r), y: c.y + d * Math.sin(r) };
        // Displayed image 200x150; stored pixels turned per the orientation.
        const swap = orientation >= 5;
        const [sw, sh] = swap ? [150, 200] : [200, 150];
        const data = new Uint8Array(sw * sh * 3);
        const paint = (p: { x: number; y: number }, rgb: number[]) => {
          for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
            const q = displayToStored(orientation, sw, sh, p);
            if ((x + 0.5 - q.x) ** 2 + (y + 0.5 - q.y) ** 2 <= 9) data.set(rgb, (y * sw + x) * 3);
          }
        };
        paint(rightEye, [255, 0, 0]);
        paint(leftEye, [0, 0, 255]);
        const kp = { rightEye, leftEye, nose: c, mouth: c, rightEar: c, leftEar: c };
        const face = new Face({ xMin: c.x - 30, yMin: c.y - 30, xMax: c.x + 30, yMax: c.y + 30 }, kp, 1, []);
        const crop = cropRect({ data, width: sw, height: sh }, orientation, faceRect(face), 90);
        const centroid = (ch: number) => {
          let n = 0, sx = 0, sy = 0;
          for (let i = 0; i < 90 * 90; i++) if (crop.data[i * 3 + ch]! > 128 && crop.data[i * 3 + (2 - ch)]! < 100) (n++, (sx += i % 90), (sy += Math.floor(i / 90)));
          return { x: sx / n, y: sy / n };
        };
        const red = centroid(0), blue = centroid(2);
        expect(red.x).toBeLessThan(blue.x);
        expect((Math.atan2(blue.y - red.y, blue.x - red.x) * 180) / Math.PI).toBeCloseTo(0, 0);
        // side = 1.5 x 60 = 90 display px -> 1 crop px per display px: eyes 40 apart around the centre.
        expect(blue.x - red.x).toBeCloseTo(40, 0);
        expect((red.y + blue.y) / 2).toBeCloseTo(44.5, 0);
      }
    }
  });
});

describe('detectMany', () => {
  it('the worker pool gives the single-thread detector results', async () => {
    const files = expected();
    const detector = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node' });
    const single = await detector.detectBatch(files);
    await detector.dispose();
    const pooled = [];
    for await (const e of detectMany(files, { preset: 'full_range', backend: 'onnxruntime-node', concurrency: 2 })) pooled.push(e);
    expect(pooled.map((e) => e.input)).toEqual(files);
    for (const [i, e] of pooled.entries()) {
      const s = single[i]!;
      if (!e.ok || !s.ok) throw new Error('expected ok entries');
      expect(e.faces.map((f) => f.toArray())).toEqual(s.faces.map((f) => f.toArray()));
      expect(e.faces.map((f) => f.box)).toEqual(s.faces.map((f) => f.box));
    }
  }, 60_000);

  it('pulls inputs lazily: never more than the window ahead of the consumer; memory stays flat over 200 files', async () => {
    const folder = path.join(dir, 'many');
    await mkdir(folder);
    const png = await sharp(path.join(seed, '1face.png')).resize(64, 64).png().toBuffer();
    for (let i = 0; i < 200; i++) await writeFile(path.join(folder, `p${String(i).padStart(3, '0')}.png`), png);
    let pulled = 0;
    let yielded = 0;
    let maxAhead = 0;
    async function* inputs() {
      for await (const f of enumerateImages([folder])) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - yielded);
        yield f.path;
      }
    }
    let rssAt50 = 0;
    for await (const e of detectMany(inputs(), { preset: 'full_range', concurrency: 1, window: 4 })) {
      expect(e.ok).toBe(true);
      yielded++;
      if (yielded === 50) rssAt50 = process.memoryUsage().rss;
    }
    expect(yielded).toBe(200);
    expect(maxAhead).toBeLessThanOrEqual(5); // the window, plus the one being handed over
    expect(process.memoryUsage().rss - rssAt50).toBeLessThan(64 * 2 ** 20);
  }, 120_000);

  it('a worker that cannot load its model is a setup error, not one error per image', async () => {
    const it = detectMany([path.join(photos, names[0]!)], { preset: 'full_range', artifactsRoot: path.join(dir, 'no-artifacts'), concurrency: 1 });
    await expect(it.next()).rejects.toMatchObject({ code: expect.any(String) });
  }, 60_000);
});

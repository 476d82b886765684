// What a detection looks like to a user: faces sorted by the score they report, maxFaces keeping the
// best, the preset's own NMS scoring, box width/height, named keypoint list, roll from the eye line, the
// adapters to @tensorflow-models/face-detection and @mediapipe/tasks-vision shapes, and typed option errors.
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, type Detector } from '../src/detect/detector.js';
import { Face, KEYPOINT_NAMES, rollFromEyes, TFJS_MODELS_KEYPOINT_NAMES, toMediaPipeDetection, toTfjsModelsFace, type KeypointName, type Point } from '../src/detect/face.js';
import { InvalidOptionError } from '../src/errors.js';
import { seedDir } from '../src/fixtures.js';

const SEED = seedDir();
const photo = (name: string) => path.join(SEED!, name);

function syntheticFace(rightEye: Point, leftEye: Point): Face {
  const keypoints = { rightEye, leftEye, nose: { x: 15, y: 20 }, mouth: { x: 15, y: 26 }, rightEar: { x: 2, y: 14 }, leftEar: { x: 28, y: 14 } } as Record<KeypointName, Point>;
  const normalized = [0.1, 0.05, 0.3, 0.3, ...KEYPOINT_NAMES.flatMap((k) => [keypoints[k].x / 100, keypoints[k].y / 100]), 0.9];
  return new Face({ xMin: 5, yMin: 10, xMax: 30, yMax: 30 }, keypoints, 0.9, normalized);
}

describe('Face fields', () => {
  it('box carries width and height; keypointList is the keypoints in KEYPOINT_NAMES order with names', () => {
    const face = syntheticFace({ x: 10, y: 12 }, { x: 20, y: 12 });
    expect(face.box).toEqual({ xMin: 5, yMin: 10, xMax: 30, yMax: 30, width: 25, height: 20 });
    expect(face.keypointList.map((k) => k.name)).toEqual([...KEYPOINT_NAMES]);
    for (const k of face.keypointList) expect({ x: k.x, y: k.y }).toEqual(face.keypoints[k.name]);
  });

  it('roll is the eye-line angle, right eye to left eye, positive clockwise on screen (y down)', () => {
    expect(syntheticFace({ x: 10, y: 12 }, { x: 20, y: 12 }).roll).toBe(0);
    // The left eye (image right) lower than the right eye: head turned clockwise as displayed.
    expect(syntheticFace({ x: 10, y: 10 }, { x: 20, y: 20 }).rollDegrees).toBeCloseTo(45, 12);
    expect(rollFromEyes({ x: 10, y: 20 }, { x: 20, y: 10 })).toBeCloseTo(-Math.PI / 4, 12);
    // Upside down: the eye line points left.
    expect(Math.abs(syntheticFace({ x: 20, y: 12 }, { x: 10, y: 12 }).rollDegrees)).toBeCloseTo(180, 12);
  });

  it('toTfjsModelsFace: the shape of @tensorflow-models/face-detection Face, pixel coordinates, its keypoint names', () => {
    const face = syntheticFace({ x: 10, y: 12 }, { x: 20, y: 12 });
    const t = toTfjsModelsFace(face);
    expect(Object.keys(t).sort()).toEqual(['box', 'keypoints']);
    expect(t.box).toEqual({ xMin: 5, xMax: 30, yMin: 10, yMax: 30, width: 25, height: 20 });
    expect(t.keypoints.map((k) => k.name)).toEqual([...TFJS_MODELS_KEYPOINT_NAMES]);
    expect(t.keypoints[0]).toEqual({ x: 10, y: 12, name: 'rightEye' });
    expect(t.keypoints[2]).toEqual({ x: 15, y: 20, name: 'noseTip' });
  });

  it('toMediaPipeDetection: the shape of @mediapipe/tasks-vision Detection, pixel box, normalized keypoints', () => {
    const face = syntheticFace({ x: 10, y: 12 }, { x: 20, y: 12 });
    const d = toMediaPipeDetection(face);
    expect(Object.keys(d).sort()).toEqual(['boundingBox', 'categories', 'keypoints']);
    expect(d.categories).toEqual([{ score: 0.9, index: 0, categoryName: '', displayName: '' }]);
    expect(d.boundingBox).toEqual({ originX: 5, originY: 10, width: 25, height: 20, angle: 0 });
    expect(d.keypoints).toHaveLength(6);
    expect(d.keypoints[0]).toEqual({ x: 0.1, y: 0.12 });
    expect(d.keypoints[5]).toEqual({ x: 0.28, y: 0.14 });
  });
});

describe('createDetector option errors', () => {
  it('are InvalidOptionError with code INVALID_OPTION naming the option', async () => {
    for (const [opts, option] of [
      [{ minScore: -1 }, 'minScore'],
      [{ minScore: Number.NaN }, 'minScore'],
      [{ iouThreshold: 1.5 }, 'iouThreshold'],
      [{ nms: 'greedy' }, 'nms'],
      [{ maxFaces: 0 }, 'maxFaces'],
      [{ maxFaces: 1.5 }, 'maxFaces'],
    ] as const) {
      const err = await createDetector({ backend: 'reference', ...(opts as object) }).catch((e: unknown) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(InvalidOptionError);
      expect(err).toMatchObject({ code: 'INVALID_OPTION', option });
      expect((err as Error).message).toContain(option);
    }
  });
});

describe.skipIf(!SEED)('results on the seed photos (onnxruntime-node)', () => {
  let full: Detector;
  beforeAll(async () => {
    full = await createDetector({ preset: 'full_range', backend: 'onnxruntime-node' });
  });
  afterAll(async () => {
    await full?.dispose();
  });

  it('full_range uses MediaPipe scoring by default and finds the four faces of 4faces.png, best first', async () => {
    expect(full.decodeOptions.nms).toBe('mediapipe');
    const faces = await full.detect(photo('4faces.png'));
    expect(faces).toHaveLength(4);
    const scores = faces.map((f) => f.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('short_range misses the small faces of 4faces.png (why the CLI defaults to full_range)', async () => {
    const short = await createDetector({ preset: 'short_range', backend: 'onnxruntime-node' });
    try {
      expect((await short.detect(photo('4faces.png'))).length).toBeLessThan(2);
    } finally {
      await short.dispose();
    }
  });

  it("with 'blend', faces come sorted by the mean score they report, and maxFaces keeps the highest", async () => {
    const blend = await createDetector({ preset: 'short_range', backend: 'onnxruntime-node', nms: 'blend' });
    const two = await createDetector({ preset: 'short_range', backend: 'onnxruntime-node', nms: 'blend', maxFaces: 2 });
    try {
      const faces = await blend.detect(photo('3faces.png'));
      expect(faces).toHaveLength(3);
      const scores = faces.map((f) => f.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      const kept = await two.detect(photo('3faces.png'));
      expect(kept.map((f) => f.score)).toEqual(scores.slice(0, 2));
    } finally {
      await blend.dispose();
      await two.dispose();
    }
  });

  it('roll follows a rotation of the photo: 15 degrees clockwise adds about +15 degrees', async () => {
    const [upright] = await full.detect(photo('1face.png'));
    // sharp rotates clockwise for a positive angle (the canvas grows; the face stays whole).
    const rotated = await sharp(photo('1face.png')).rotate(15, { background: '#000' }).png().toBuffer();
    const [turned] = await full.detect(rotated);
    expect(upright).toBeDefined();
    expect(turned).toBeDefined();
    expect(turned!.rollDegrees - upright!.rollDegrees).toBeGreaterThan(10);
    expect(turned!.rollDegrees - upright!.rollDegrees).toBeLessThan(20);
  });

  it('toMediaPipeDetection keypoints are the pixel keypoints over the image size', async () => {
    const [face] = await full.detect(photo('1face.png'));
    const { width, height } = await sharp(photo('1face.png')).metadata();
    const d = toMediaPipeDetection(face!);
    face!.keypointList.forEach((k, i) => {
      expect(d.keypoints[i]!.x * width!).toBeCloseTo(k.x, 6);
      expect(d.keypoints[i]!.y * height!).toBeCloseTo(k.y, 6);
    });
  });
});

// A detected face in input-image pixels, built from one decoded detection row and the letterbox transform.
import { ToolkitError } from '../errors.js';
import { modelToImage, modelToImageNormalized, type LetterboxTransform } from './letterbox-geometry.js';
import type { Detections } from './tensors-to-detections.js';

/** MediaPipe's face keypoint order (the person's right eye first). */
export const KEYPOINT_NAMES = ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar'] as const;
export type KeypointName = (typeof KEYPOINT_NAMES)[number];

/** Numbers in one face detection: 4 box, 6 keypoints x 2, score. */
export const FACE_DETECTION_LENGTH = 17;

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly xMin: number;
  readonly yMin: number;
  readonly xMax: number;
  readonly yMax: number;
}

/** The structural shape drawing and reports need (Face satisfies it). */
export interface FaceLike {
  readonly box: Box;
  readonly keypoints: Readonly<Record<KeypointName, Point>>;
  readonly score: number;
}

export class Face implements FaceLike {
  readonly box: Box;
  readonly keypoints: Readonly<Record<KeypointName, Point>>;
  readonly score: number;
  // Kept private so JSON.stringify(face) shows only box, keypoints and score.
  readonly #normalized: readonly number[];

  constructor(box: Box, keypoints: Record<KeypointName, Point>, score: number, normalized: readonly number[]) {
    this.box = box;
    this.keypoints = keypoints;
    this.score = score;
    this.#normalized = normalized;
  }

  /**
   * The seed's 17 numbers: ymin, xmin, ymax, xmax, x/y of right eye, left eye, nose, mouth, right ear,
   * left ear, score; normalized over the input image (identical to the model's output when the image
   * is already at the model size).
   */
  toArray(): number[] {
    return [...this.#normalized];
  }
}

/** Map decoded detections (normalized model coordinates) to faces in the original image. */
export function facesFromDetections(detections: Detections, transform: LetterboxTransform): Face[] {
  if (detections.stride !== FACE_DETECTION_LENGTH) {
    throw new ToolkitError('DECODE_SHAPE', `face detections need ${FACE_DETECTION_LENGTH} numbers per row, got ${detections.stride}`);
  }
  const faces: Face[] = [];
  const v = detections.values;
  for (let i = 0; i < detections.count; i++) {
    const o = i * FACE_DETECTION_LENGTH;
    const p0 = modelToImage(transform, v[o + 1]!, v[o]!);
    const p1 = modelToImage(transform, v[o + 3]!, v[o + 2]!);
    const n0 = modelToImageNormalized(transform, v[o + 1]!, v[o]!);
    const n1 = modelToImageNormalized(transform, v[o + 3]!, v[o + 2]!);
    const normalized = [n0.y, n0.x, n1.y, n1.x];
    const keypoints = {} as Record<KeypointName, Point>;
    KEYPOINT_NAMES.forEach((name, k) => {
      const u = v[o + 4 + 2 * k]!;
      const w = v[o + 5 + 2 * k]!;
      keypoints[name] = modelToImage(transform, u, w);
      const n = modelToImageNormalized(transform, u, w);
      normalized.push(n.x, n.y);
    });
    const score = v[o + 16]!;
    normalized.push(score);
    faces.push(new Face({ xMin: p0.x, yMin: p0.y, xMax: p1.x, yMax: p1.y }, keypoints, score, normalized));
  }
  return faces;
}

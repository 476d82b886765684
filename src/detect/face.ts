// A detected face in input-image pixels, built from one decoded detection row and the letterbox transform,
// plus adapters to the result shapes of @tensorflow-models/face-detection and @mediapipe/tasks-vision.
import { ToolkitError } from '../errors.js';
import { modelToImage, modelToImageNormalized, type LetterboxTransform } from './letterbox-geometry.js';
import type { Detections } from './tensors-to-detections.js';

/** MediaPipe's face keypoint order (the person's right eye first). */
export const KEYPOINT_NAMES = ['rightEye', 'leftEye', 'nose', 'mouth', 'rightEar', 'leftEar'] as const;
export type KeypointName = (typeof KEYPOINT_NAMES)[number];

/**
 * How each keypoint is shown, in KEYPOINT_NAMES order: one legend and one colour per keypoint, shared by
 * the HTML parity report and the annotated images of `detect --out` (right side warm, left side cool).
 */
export const KEYPOINT_STYLE: readonly { readonly name: KeypointName; readonly label: string; readonly colour: string }[] = [
  { name: 'rightEye', label: 'right eye', colour: '#ff3b30' },
  { name: 'leftEye', label: 'left eye', colour: '#0a84ff' },
  { name: 'nose', label: 'nose', colour: '#ffd60a' },
  { name: 'mouth', label: 'mouth', colour: '#30d158' },
  { name: 'rightEar', label: 'right ear', colour: '#bf5af2' },
  { name: 'leftEar', label: 'left ear', colour: '#ff9f0a' },
];

/** Numbers in one face detection: 4 box, 6 keypoints x 2, score. */
export const FACE_DETECTION_LENGTH = 17;

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface NamedPoint extends Point {
  readonly name: KeypointName;
}

export interface Box {
  readonly xMin: number;
  readonly yMin: number;
  readonly xMax: number;
  readonly yMax: number;
  readonly width: number;
  readonly height: number;
}

/** The structural shape drawing and reports need (Face satisfies it). */
export interface FaceLike {
  readonly box: Box;
  readonly keypoints: Readonly<Record<KeypointName, Point>>;
  readonly score: number;
}

/**
 * Roll of the face in the image plane, from the eye line: the angle of the vector from the person's
 * right eye to their left eye, measured in image pixels (y pointing down), in (-pi, pi]. 0 for an upright
 * face; positive when the face is turned clockwise as the image is displayed. The same convention as
 * MediaPipe's face ROI rotation (DetectionsToRectsCalculator, keypoints 0 -> 1, target angle 0).
 */
export function rollFromEyes(rightEye: Point, leftEye: Point): number {
  return Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
}

export class Face implements FaceLike {
  readonly box: Box;
  readonly keypoints: Readonly<Record<KeypointName, Point>>;
  /** The same keypoints as an array in KEYPOINT_NAMES order, each with its name. */
  readonly keypointList: readonly NamedPoint[];
  readonly score: number;
  /** Roll from the eye line in radians (see rollFromEyes for the sign convention). */
  readonly roll: number;
  /** The same roll in degrees. */
  readonly rollDegrees: number;
  // Kept private so JSON.stringify(face) shows only the public fields.
  readonly #normalized: readonly number[];

  constructor(box: Omit<Box, 'width' | 'height'>, keypoints: Record<KeypointName, Point>, score: number, normalized: readonly number[]) {
    this.box = { ...box, width: box.xMax - box.xMin, height: box.yMax - box.yMin };
    this.keypoints = keypoints;
    this.keypointList = KEYPOINT_NAMES.map((name) => ({ name, x: keypoints[name].x, y: keypoints[name].y }));
    this.score = score;
    this.roll = rollFromEyes(keypoints.rightEye, keypoints.leftEye);
    this.rollDegrees = (this.roll * 180) / Math.PI;
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

// ---- adapters to the result shapes other face-detection libraries return ----

/** @tensorflow-models/face-detection's keypoint names, in the same order as KEYPOINT_NAMES. */
export const TFJS_MODELS_KEYPOINT_NAMES = ['rightEye', 'leftEye', 'noseTip', 'mouthCenter', 'rightEarTragion', 'leftEarTragion'] as const;

/** The shape of @tensorflow-models/face-detection's `Face` (pixel coordinates). */
export interface TfjsModelsFace {
  box: { xMin: number; xMax: number; yMin: number; yMax: number; width: number; height: number };
  keypoints: { x: number; y: number; name: (typeof TFJS_MODELS_KEYPOINT_NAMES)[number] }[];
}

/** A face as @tensorflow-models/face-detection's `estimateFaces` returns it (no score there: use face.score). */
export function toTfjsModelsFace(face: Face): TfjsModelsFace {
  const { xMin, xMax, yMin, yMax, width, height } = face.box;
  return {
    box: { xMin, xMax, yMin, yMax, width, height },
    keypoints: KEYPOINT_NAMES.map((name, k) => ({ x: face.keypoints[name].x, y: face.keypoints[name].y, name: TFJS_MODELS_KEYPOINT_NAMES[k]! })),
  };
}

/** The shape of @mediapipe/tasks-vision's `Detection` (FaceDetector results). */
export interface MediaPipeDetection {
  categories: { score: number; index: number; categoryName: string; displayName: string }[];
  /** Pixels; angle in clockwise degrees (always 0: the face box is axis-aligned). */
  boundingBox?: { originX: number; originY: number; width: number; height: number; angle: number };
  /** Normalized to the input image ([0, 1] inside it). */
  keypoints: { x: number; y: number; score?: number; label?: string }[];
}

/**
 * A face as @mediapipe/tasks-vision's FaceDetector returns it: one category (index 0, empty names), the
 * box in pixels, the six keypoints normalized over the input image, without labels, as tasks-vision gives them.
 */
export function toMediaPipeDetection(face: Face): MediaPipeDetection {
  const n = face.toArray();
  return {
    categories: [{ score: face.score, index: 0, categoryName: '', displayName: '' }],
    boundingBox: { originX: face.box.xMin, originY: face.box.yMin, width: face.box.width, height: face.box.height, angle: 0 },
    keypoints: KEYPOINT_NAMES.map((_, k) => ({ x: n[4 + 2 * k]!, y: n[5 + 2 * k]! })),
  };
}

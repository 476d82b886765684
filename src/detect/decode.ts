// Decode + NMS, written once: every backend's raw outputs go through this, and so does the verifier.
import type { RawOutputs } from '../backends/backend.js';
import type { Preset } from '../presets/types.js';
import { weightedNonMaxSuppression, type NmsFlavour } from './non-max-suppression.js';
import { tensorsToDetections, type Detections } from './tensors-to-detections.js';

export interface DecodeOptions {
  /** Score threshold; default preset.decode.minScoreThresh. */
  readonly minScore?: number;
  /** NMS min_suppression_threshold; default preset.nms.minSuppressionThreshold (0.3). */
  readonly iouThreshold?: number;
  /** Default: the preset's (preset.nms.flavour: 'mediapipe' for MediaPipe's models, 'blend' for the seed's). */
  readonly nms?: NmsFlavour;
  /** At most this many faces per image; default no limit. */
  readonly maxFaces?: number;
}

/** Decode one image of the batch: score filter, box decode, weighted NMS (normalized model coordinates). */
export function decodeImage(raw: RawOutputs, anchors: Float64Array, preset: Preset, batchIndex: number, opts: DecodeOptions = {}): Detections {
  const candidates = tensorsToDetections(raw, anchors, preset.decode, {
    batchIndex,
    minScoreThresh: opts.minScore ?? preset.decode.minScoreThresh,
  });
  return weightedNonMaxSuppression(candidates, {
    iouThreshold: opts.iouThreshold ?? preset.nms.minSuppressionThreshold,
    flavour: opts.nms ?? preset.nms.flavour,
    maxDetections: opts.maxFaces,
  });
}

/** Decode every image of a batch; result[n] holds image n's detections, rows of the seed's 17 numbers. */
export function decodeDetections(raw: RawOutputs, anchors: Float64Array, preset: Preset, opts: DecodeOptions = {}): Detections[] {
  return Array.from({ length: raw.batch }, (_, n) => decodeImage(raw, anchors, preset, n, opts));
}

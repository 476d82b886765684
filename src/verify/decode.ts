// Decoded faces for the parity report: the detector's decode + weighted NMS ('blend', the seed's
// flavour) at the preset's own threshold, turned into plain records for JSON and drawing.
import type { RawOutputs } from '../backends/backend.js';
import { generateAnchors } from '../anchors/ssd-anchors-calculator.js';
import { decodeDetections } from '../detect/decode.js';
import type { Detections } from '../detect/tensors-to-detections.js';
import type { Preset } from '../presets/types.js';
import type { DetectionRecord } from './report-types.js';

export const VERIFY_NMS_FLAVOUR = 'blend' as const;

/** Rows of the detector's flat [ymin, xmin, ymax, xmax, kx0, ky0, ..., score] layout as records. */
export function toRecords(detections: Detections): DetectionRecord[] {
  const { count, stride, values } = detections;
  const out: DetectionRecord[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * stride;
    const keypoints: [number, number][] = [];
    for (let k = 4; k + 1 < stride - 1; k += 2) keypoints.push([values[o + k]!, values[o + k + 1]!]);
    out.push({
      box: [values[o]!, values[o + 1]!, values[o + 2]!, values[o + 3]!],
      keypoints,
      score: values[o + stride - 1]!,
    });
  }
  return out;
}

/** A decoder for compareOutputs: every image of a batch to its faces, anchors generated once. */
export function presetDecoder(preset: Preset): (raw: RawOutputs) => DetectionRecord[][] {
  const anchors = generateAnchors(preset.anchors);
  // The preset's own threshold and IoU (decodeDetections' defaults), the seed's 'blend' merge.
  return (raw) => decodeDetections(raw, anchors, preset, { nms: VERIFY_NMS_FLAVOUR }).map(toRecords);
}

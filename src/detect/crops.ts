// Aligned face crops (`detect --crops`, detectMany's crops option): one upright square per face, the
// region MediaPipe's face pipeline hands from detection to landmarks. That region is the detection box
// through RectTransformationCalculator as configured in face_detection_front_detection_to_roi.pbtxt:
// rotation from keypoint 0 (right eye) to keypoint 1 (left eye) with target angle 0 (= Face.roll),
// scale_x = scale_y = 1.5, square_long: true (side = 1.5 x the box's long side), no shift.
// Pixels are sampled bilinearly straight from the stored (not yet EXIF-turned) pixels, so no turned or
// rotated full-size copy of the photo is made; outside the photo is black.
import sharp from 'sharp';
import type { RgbImage } from '../image/pixels.js';
import { displayToStored } from './draw.js';
import type { Face } from './face.js';

export const CROP_SCALE = 1.5;
/** Side of every crop in pixels (MediaPipe's landmark model takes 192; 256 keeps a little more detail). */
export const CROP_SIZE = 256;

export interface FaceRect {
  /** Centre in display pixels. */
  readonly cx: number;
  readonly cy: number;
  /** Side of the square in display pixels. */
  readonly side: number;
  /** Rotation in radians: the face's roll (the crop's x axis runs from the right eye towards the left eye). */
  readonly rotation: number;
}

/** MediaPipe's face ROI of a detection: box centre, 1.5 x the long side, rotated by the eye line. */
export function faceRect(face: Pick<Face, 'box' | 'roll'>, scale = CROP_SCALE): FaceRect {
  const { xMin, yMin, xMax, yMax } = face.box;
  return { cx: (xMin + xMax) / 2, cy: (yMin + yMax) / 2, side: Math.max(xMax - xMin, yMax - yMin) * scale, rotation: face.roll };
}

/** The upright size x size RGB crop of `rect` from stored pixels with EXIF orientation `orientation`. */
export function cropRect(stored: RgbImage, orientation: number, rect: FaceRect, size = CROP_SIZE): RgbImage {
  const out = new Uint8Array(size * size * 3);
  const cos = Math.cos(rect.rotation), sin = Math.sin(rect.rotation);
  const { width: w, height: h, data } = stored;
  for (let v = 0; v < size; v++) {
    const b = ((v + 0.5) / size - 0.5) * rect.side;
    for (let u = 0; u < size; u++) {
      const a = ((u + 0.5) / size - 0.5) * rect.side;
      const p = displayToStored(orientation, w, h, { x: rect.cx + a * cos - b * sin, y: rect.cy + a * sin + b * cos });
      // Pixel centres sit at +0.5: bilinear between the four nearest centres.
      const x = p.x - 0.5, y = p.y - 0.5;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const fx = x - x0, fy = y - y0;
      const o = (v * size + u) * 3;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (const [dx, dy, wt] of [[0, 0, (1 - fx) * (1 - fy)], [1, 0, fx * (1 - fy)], [0, 1, (1 - fx) * fy], [1, 1, fx * fy]] as const) {
          const xi = x0 + dx, yi = y0 + dy;
          if (wt > 0 && xi >= 0 && yi >= 0 && xi < w && yi < h) acc += wt * data[(yi * w + xi) * 3 + c]!;
        }
        out[o + c] = Math.round(acc);
      }
    }
  }
  return { data: out, width: size, height: size };
}

/** JPEG bytes of each face's aligned crop, in the faces' order. */
export async function faceCropsJpeg(stored: RgbImage, orientation: number, faces: readonly Face[], size = CROP_SIZE): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const face of faces) {
    const crop = cropRect(stored, orientation, faceRect(face), size);
    out.push(await sharp(crop.data, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 92 }).toBuffer());
  }
  return out;
}

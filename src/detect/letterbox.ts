// Preprocessing: fit an RGB image into the model input (MediaPipe's ImageToTensorCalculator with
// keep_aspect_ratio: true, border_mode: BORDER_ZERO), and the exact inverse mapping of model
// coordinates back to the original pixels (what MediaPipe's DetectionProjectionCalculator does).
//
// Choices:
//  - An image already at the model size is used as is (the seed's path, bit-for-bit).
//  - Otherwise it is scaled by s = min(W/w, H/h) to round(w*s) x round(h*s), centred, and the border
//    is filled with black pixels, which normalize to -1. That is MediaPipe's CPU converter: OpenCV
//    warps with a constant-0 border on the 8-bit pixels and only then maps [0,255] to [-1,1].
//  - The transform records the actual resized size, so the rounding of round(w*s) is exact in both
//    directions (x and y scales may differ by that rounding).
//  - Resampling follows the transform's own mapping, pixel centres to pixel centres: output pixel x_d
//    (0-based, inside the scaled area) samples the source at x_s = (x_d + 0.5) * w / round(w*s) - 0.5.
//    Shrinking uses sharp (its reduce is centred that way and antialiases). Enlarging does not: sharp's
//    upsampler puts the content about half an output pixel off that mapping (0.25 source px at 2x),
//    so an image smaller than the model input is enlarged here with separable bilinear interpolation
//    on exactly that mapping, clamped at the image edges (test/detect-letterbox.test.ts measures both).
import sharp from 'sharp';
import type { RgbImage } from '../image/pixels.js';
import { computeLetterbox, enlargeBilinear, type LetterboxTransform } from './letterbox-geometry.js';

export { computeLetterbox, imageToModel, modelToImage, modelToImageNormalized, type LetterboxTransform } from './letterbox-geometry.js';

/** Letterbox 8-bit RGB pixels to the model input size (see the file comment for the rules). */
export async function letterboxRgb(image: RgbImage, targetWidth: number, targetHeight: number): Promise<{ image: RgbImage; transform: LetterboxTransform }> {
  const transform = computeLetterbox(image.width, image.height, targetWidth, targetHeight);
  if (transform.identity) return { image, transform };
  // s > 1 rounds both sides up or equal and s < 1 both down or equal, so this is "no side shrinks".
  if (transform.resizedWidth > image.width || transform.resizedHeight > image.height) {
    return { image: { data: enlargeBilinear(image, transform), width: targetWidth, height: targetHeight }, transform };
  }
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(transform.resizedWidth, transform.resizedHeight, { fit: 'fill', kernel: 'linear' })
    .extend({
      top: transform.padTop,
      bottom: targetHeight - transform.resizedHeight - transform.padTop,
      left: transform.padLeft,
      right: targetWidth - transform.resizedWidth - transform.padLeft,
      background: { r: 0, g: 0, b: 0 },
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== targetWidth || info.height !== targetHeight || info.channels !== 3) {
    throw new Error(`letterbox: sharp produced ${info.width}x${info.height}x${info.channels}, expected ${targetWidth}x${targetHeight}x3`);
  }
  return { image: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height }, transform };
}

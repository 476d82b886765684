// Smooth test images whose position is known to sub-pixel accuracy, for checking resamplers' geometry.
import type { RgbImage } from '../../src/image/pixels.js';

/** A grey Gaussian blob centred at (cx, cy) (pixel centres at integers), peak 250. */
export function gaussianBlob(width: number, height: number, cx: number, cy: number, sigma: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = Math.round(250 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma)));
      data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { data, width, height };
}

/** Intensity-weighted centroid of the red channel, in 0-based pixel coordinates (pixel centres at integers). */
export function centroid(img: RgbImage): { x: number; y: number } {
  let s = 0, sx = 0, sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[(y * img.width + x) * 3]!;
      s += v; sx += v * x; sy += v * y;
    }
  }
  return { x: sx / s, y: sy / s };
}

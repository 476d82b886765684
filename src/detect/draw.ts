// Annotated images: boxes and keypoints drawn as an SVG overlay that sharp composites onto the photo.
// Shared by `blazeface detect --out` and the verifier's HTML report.
import sharp from 'sharp';
import type { RgbImage } from '../image/pixels.js';
import { KEYPOINT_NAMES, type FaceLike } from './face.js';

/** One colour per keypoint, in KEYPOINT_NAMES order (right side warm, left side cool). */
const KEYPOINT_COLOURS = ['#ff3b30', '#007aff', '#ffcc00', '#ff2d95', '#ff9500', '#5ac8fa'] as const;
const BOX_COLOUR = '#34c759';

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : '0';
}

function overlaySvg(width: number, height: number, faces: readonly FaceLike[]): string {
  // Line widths grow with the image so 128-pixel test photos and 4000-pixel photos both read well.
  const stroke = Math.max(1, Math.round(Math.min(width, height) / 160));
  const radius = Math.max(1.5, stroke * 1.5);
  const parts: string[] = [];
  for (const face of faces) {
    const { xMin, yMin, xMax, yMax } = face.box;
    parts.push(
      `<rect x="${fmt(xMin)}" y="${fmt(yMin)}" width="${fmt(xMax - xMin)}" height="${fmt(yMax - yMin)}" fill="none" stroke="${BOX_COLOUR}" stroke-width="${stroke}"/>`,
    );
    KEYPOINT_NAMES.forEach((name, k) => {
      const p = face.keypoints[name];
      parts.push(`<circle cx="${fmt(p.x)}" cy="${fmt(p.y)}" r="${fmt(radius)}" fill="${KEYPOINT_COLOURS[k]}"/>`);
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** PNG bytes of `rgb` with each face's box and six keypoints drawn on it (coordinates in `rgb`'s pixels). */
export async function drawDetections(rgb: RgbImage, faces: readonly FaceLike[]): Promise<Buffer> {
  const svg = Buffer.from(overlaySvg(rgb.width, rgb.height, faces));
  return sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toBuffer();
}

// Annotated images: boxes and keypoints drawn into the photo's RGB pixels, then encoded as PNG by sharp.
// Shared by `blazeface detect --out` and the verifier's HTML report.
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../image/pixels.js';
import { KEYPOINT_NAMES, KEYPOINT_STYLE, type FaceLike, type KeypointName, type Point } from './face.js';

/** One colour per keypoint, in KEYPOINT_NAMES order: the HTML report's (KEYPOINT_STYLE). */
const KEYPOINT_COLOURS = KEYPOINT_STYLE.map((k) => k.colour);
const BOX_COLOUR = '#34c759';

function rgbOf(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Paint every pixel whose centre lies in [x0, x1) x [y0, y1) (clipped to the image). */
function fillRect(img: RgbImage, x0: number, y0: number, x1: number, y1: number, c: readonly number[]): void {
  const xs = Math.max(0, Math.ceil(x0 - 0.5)), xe = Math.min(img.width, Math.ceil(x1 - 0.5));
  const ys = Math.max(0, Math.ceil(y0 - 0.5)), ye = Math.min(img.height, Math.ceil(y1 - 0.5));
  for (let y = ys; y < ye; y++) {
    for (let x = xs, i = (y * img.width + xs) * 3; x < xe; x++, i += 3) {
      img.data[i] = c[0]!;
      img.data[i + 1] = c[1]!;
      img.data[i + 2] = c[2]!;
    }
  }
}

function fillCircle(img: RgbImage, cx: number, cy: number, r: number, c: readonly number[]): void {
  const ys = Math.max(0, Math.floor(cy - r)), ye = Math.min(img.height - 1, Math.ceil(cy + r));
  const xs = Math.max(0, Math.floor(cx - r)), xe = Math.min(img.width - 1, Math.ceil(cx + r));
  for (let y = ys; y <= ye; y++) {
    for (let x = xs; x <= xe; x++) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > r * r) continue;
      const i = (y * img.width + x) * 3;
      img.data[i] = c[0]!;
      img.data[i + 1] = c[1]!;
      img.data[i + 2] = c[2]!;
    }
  }
}

/**
 * Draw each face's box outline and six keypoints straight into `rgb`'s pixels (coordinates in its
 * pixels). Drawing into the decoded buffer itself, instead of compositing a full-size overlay image,
 * keeps `detect --out` at one full-size copy of the photo.
 */
export function drawDetectionsInPlace(rgb: RgbImage, faces: readonly FaceLike[]): void {
  // Line widths grow with the image so 128-pixel test photos and 4000-pixel photos both read well.
  const stroke = Math.max(1, Math.round(Math.min(rgb.width, rgb.height) / 160));
  const radius = Math.max(1.5, stroke * 1.5);
  const box = rgbOf(BOX_COLOUR);
  const h = stroke / 2;
  for (const face of faces) {
    const { xMin, yMin, xMax, yMax } = face.box;
    if ([xMin, yMin, xMax, yMax].every(Number.isFinite)) {
      fillRect(rgb, xMin - h, yMin - h, xMax + h, yMin + h, box); // top
      fillRect(rgb, xMin - h, yMax - h, xMax + h, yMax + h, box); // bottom
      fillRect(rgb, xMin - h, yMin + h, xMin + h, yMax - h, box); // left
      fillRect(rgb, xMax - h, yMin + h, xMax + h, yMax - h, box); // right
    }
    KEYPOINT_NAMES.forEach((name, k) => {
      const p = face.keypoints[name];
      if (Number.isFinite(p.x) && Number.isFinite(p.y)) fillCircle(rgb, p.x, p.y, radius, rgbOf(KEYPOINT_COLOURS[k]!));
    });
  }
}

/** PNG bytes of `rgb` with each face's box and six keypoints drawn on it; `rgb` is left as it was unless inPlace. */
export async function drawDetections(rgb: RgbImage, faces: readonly FaceLike[], options: { inPlace?: boolean } = {}): Promise<Buffer> {
  const target = options.inPlace ? rgb : { ...rgb, data: Uint8Array.from(rgb.data) };
  drawDetectionsInPlace(target, faces);
  return sharp(target.data, { raw: { width: target.width, height: target.height, channels: 3 } }).png().toBuffer();
}

/** Display coordinates -> stored-pixel coordinates of a w x h stored image with EXIF orientation o (continuous, pixel edges). */
export function displayToStored(o: number, w: number, h: number, p: Point): Point {
  const { x, y } = p;
  switch (o) {
    case 2: return { x: w - x, y };
    case 3: return { x: w - x, y: h - y };
    case 4: return { x, y: h - y };
    case 5: return { x: y, y: x };
    case 6: return { x: y, y: h - x };
    case 7: return { x: w - y, y: h - x };
    case 8: return { x: w - y, y: x };
    default: return p;
  }
}

/** sharp operations turning stored pixels into displayed ones (sharp flips before it rotates). */
const ORIENT_OPS: Record<number, (s: Sharp) => Sharp> = {
  2: (s) => s.flop(),
  3: (s) => s.rotate(180),
  4: (s) => s.flip(),
  5: (s) => s.rotate(270).flop(),
  6: (s) => s.rotate(90),
  7: (s) => s.rotate(90).flop(),
  8: (s) => s.rotate(270),
};

/**
 * Annotated PNG, as displayed, of an image decoded with orientation 'defer' (pixels as stored): faces,
 * in display coordinates, are drawn onto the stored pixels (which are modified), and sharp turns the
 * result while encoding, so no rotated full-size copy is made. Equals drawDetections on the rotated image.
 */
export async function drawDetectionsOriented(
  stored: RgbImage,
  orientation: number,
  faces: readonly FaceLike[],
  options: AnnotateOptions = {},
): Promise<Buffer> {
  const map = (p: Point) => displayToStored(orientation, stored.width, stored.height, p);
  const mapped = faces.map((f): FaceLike => {
    const a = map({ x: f.box.xMin, y: f.box.yMin });
    const b = map({ x: f.box.xMax, y: f.box.yMax });
    const keypoints = Object.fromEntries(KEYPOINT_NAMES.map((k) => [k, map(f.keypoints[k])])) as Record<KeypointName, Point>;
    const [xMin, xMax, yMin, yMax] = [Math.min(a.x, b.x), Math.max(a.x, b.x), Math.min(a.y, b.y), Math.max(a.y, b.y)];
    return { box: { xMin, yMin, xMax, yMax, width: xMax - xMin, height: yMax - yMin }, keypoints, score: f.score };
  });
  drawDetectionsInPlace(stored, mapped);
  const swap = orientation >= 5;
  const [w, h] = swap ? [stored.height, stored.width] : [stored.width, stored.height];
  // Scores and the legend are text: small SVG overlays laid out in display coordinates, rendered by sharp
  // and blended into the stored pixels one pixel at a time (sharp's composite would make the turned
  // full-size image RGBA: one more byte per pixel).
  if (options.labels !== false) {
    for (const o of labelOverlays(w, h, faces)) await blendOverlay(stored, orientation, o);
  }
  const s = sharp(stored.data, { raw: { width: stored.width, height: stored.height, channels: 3 } });
  const turned = ORIENT_OPS[orientation]?.(s) ?? s;
  return options.format === 'jpeg' ? turned.jpeg({ quality: 90 }).toBuffer() : turned.png().toBuffer();
}

export interface AnnotateOptions {
  /** Encoding of the annotated image; default 'png'. */
  readonly format?: 'png' | 'jpeg';
  /** Draw each face's score and the keypoint legend (default true). */
  readonly labels?: boolean;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Alpha-blend an overlay placed at (left, top) in display coordinates into stored pixels with EXIF orientation `orientation`. */
async function blendOverlay(stored: RgbImage, orientation: number, o: { input: Buffer; left: number; top: number }): Promise<void> {
  const { data, info } = await sharp(o.input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 4;
      const a = data[i + 3]! / 255;
      if (a === 0) continue;
      const p = displayToStored(orientation, stored.width, stored.height, { x: o.left + x + 0.5, y: o.top + y + 0.5 });
      const sx = Math.floor(p.x), sy = Math.floor(p.y);
      if (sx < 0 || sy < 0 || sx >= stored.width || sy >= stored.height) continue;
      const j = (sy * stored.width + sx) * 3;
      for (let c = 0; c < 3; c++) stored.data[j + c] = Math.round(data[i + c]! * a + stored.data[j + c]! * (1 - a));
    }
  }
}

function svg(w: number, h: number, font: number, body: string): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(w)}" height="${Math.ceil(h)}" font-family="sans-serif" font-size="${font.toFixed(1)}">${body}</svg>`);
}

/** Each face's score above its box, and the keypoint legend bottom-left, as small overlays placed in a w x h image. */
export function labelOverlays(w: number, h: number, faces: readonly FaceLike[]): { input: Buffer; left: number; top: number }[] {
  // Readable from 10 px up; capped at 48 px so a huge photo does not render huge text overlays.
  const font = Math.min(48, Math.max(10, Math.round(Math.min(w, h) / 40)));
  const stroke = (f: number) => `stroke="#000" stroke-width="${(f / 12).toFixed(1)}" paint-order="stroke"`;
  const out: { input: Buffer; left: number; top: number }[] = [];
  for (const f of faces) {
    if (!(Number.isFinite(f.box.xMin) && Number.isFinite(f.box.yMin))) continue;
    const bw = font * 2.6, bh = font * 1.3;
    const left = Math.round(Math.min(Math.max(0, f.box.xMin), w - bw));
    const top = Math.round(Math.min(Math.max(0, f.box.yMin - bh), h - bh));
    if (left < 0 || top < 0) continue; // the image is smaller than the label
    out.push({ input: svg(bw, bh, font, `<text x="1" y="${(font * 1.0).toFixed(1)}" fill="${BOX_COLOUR}" ${stroke(font)}>${f.score.toFixed(2)}</text>`), left, top });
  }
  // The legend shrinks to fit the width (about 31 font sizes long); too small to read, it is left out.
  const lf = Math.min(font, w / (1.4 * KEYPOINT_STYLE.length + 0.55 * KEYPOINT_STYLE.reduce((n, k) => n + k.label.length, 0) + 1));
  if (lf >= 7 && h > lf * 1.6) {
    const parts: string[] = [];
    let x = lf * 0.5;
    const y = lf * 1.1;
    for (const k of KEYPOINT_STYLE) {
      parts.push(`<circle cx="${(x + lf * 0.35).toFixed(1)}" cy="${(y - lf * 0.35).toFixed(1)}" r="${(lf * 0.35).toFixed(1)}" fill="${k.colour}"/>`);
      parts.push(`<text x="${(x + lf * 0.9).toFixed(1)}" y="${y.toFixed(1)}" fill="#fff" ${stroke(lf)}>${escapeXml(k.label)}</text>`);
      x += lf * (1.4 + 0.55 * k.label.length);
    }
    const lh = Math.ceil(lf * 1.5);
    out.push({ input: svg(Math.min(w, Math.ceil(x)), lh, lf, parts.join('')), left: 0, top: h - lh });
  }
  return out;
}

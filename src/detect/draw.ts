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

/**
 * Annotated image bytes of `rgb` (PNG unless options.format): boxes, keypoints, scores and the legend, the
 * same drawing as drawDetectionsOriented at orientation 1; `rgb` is left as it was unless inPlace.
 */
export async function drawDetections(rgb: RgbImage, faces: readonly FaceLike[], options: AnnotateOptions & { inPlace?: boolean } = {}): Promise<Buffer> {
  const target = options.inPlace ? rgb : { ...rgb, data: Uint8Array.from(rgb.data) };
  return drawDetectionsOriented(target, 1, faces, options);
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
  // Scores and the legend, laid out in display coordinates, drawn into the stored pixels (no overlay image).
  if (options.labels !== false) drawLabels(stored, orientation, w, h, layoutLabels(w, h, faces));
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


// Scores and the legend are drawn with a 5x7 bitmap font of the few characters they use, scaled to
// whole pixels: no text renderer (librsvg through sharp held about 10 MB more at peak than the photo).
const GLYPHS: Record<string, readonly string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
  '.': ['00000', '00000', '00000', '00000', '00000', '01100', '01100'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
  a: ['00000', '00000', '01110', '00001', '01111', '10001', '01111'],
  e: ['00000', '00000', '01110', '10001', '11111', '10000', '01110'],
  f: ['00110', '01001', '01000', '11100', '01000', '01000', '01000'],
  g: ['00000', '01111', '10001', '10001', '01111', '00001', '01110'],
  h: ['10000', '10000', '10110', '11001', '10001', '10001', '10001'],
  i: ['00100', '00000', '01100', '00100', '00100', '00100', '01110'],
  l: ['01100', '00100', '00100', '00100', '00100', '00100', '01110'],
  m: ['00000', '00000', '11010', '10101', '10101', '10001', '10001'],
  n: ['00000', '00000', '10110', '11001', '10001', '10001', '10001'],
  o: ['00000', '00000', '01110', '10001', '10001', '10001', '01110'],
  r: ['00000', '00000', '10110', '11001', '10000', '10000', '10000'],
  s: ['00000', '00000', '01110', '10000', '01110', '00001', '11110'],
  t: ['01000', '01000', '11100', '01000', '01000', '01001', '00110'],
  u: ['00000', '00000', '10001', '10001', '10001', '10011', '01101'],
  y: ['00000', '00000', '10001', '10001', '01111', '00001', '01110'],
};

/** A label in display coordinates: text at (x, y) top-left, `scale` image pixels per font pixel, optional dot before it. */
interface Label {
  readonly x: number;
  readonly y: number;
  readonly scale: number;
  readonly text: string;
  readonly colour: string;
  readonly dot?: string;
}

/** Paint one display-space pixel (integer coordinates) into stored pixels with EXIF orientation `o`. */
function putDisplayPixel(stored: RgbImage, o: number, dw: number, dh: number, x: number, y: number, c: readonly number[]): void {
  if (x < 0 || y < 0 || x >= dw || y >= dh) return;
  const p = displayToStored(o, stored.width, stored.height, { x: x + 0.5, y: y + 0.5 });
  const j = (Math.floor(p.y) * stored.width + Math.floor(p.x)) * 3;
  stored.data[j] = c[0]!;
  stored.data[j + 1] = c[1]!;
  stored.data[j + 2] = c[2]!;
}

/** Width in display pixels of `text` at `scale` (6 font pixels per character, the last column blank). */
export function labelWidth(text: string, scale: number): number {
  return text.length * 6 * scale;
}

/** Draw labels (black outline, then the glyphs; the dot is a filled square of the keypoint colour). */
function drawLabels(stored: RgbImage, o: number, dw: number, dh: number, labels: readonly Label[]): void {
  const black = [0, 0, 0];
  for (const l of labels) {
    const colour = rgbOf(l.colour);
    const on: [number, number][] = [];
    const x0 = Math.round(l.x);
    const y0 = Math.round(l.y);
    // The dot (a square of the keypoint's colour) takes the first character cell.
    if (l.dot) for (let y = 1; y < 6; y++) for (let x = 0; x < 5; x++) on.push([x, y]);
    const dotCells = on.length;
    [...l.text].forEach((ch, n) => {
      const g = GLYPHS[ch] ?? GLYPHS[' ']!;
      const cx = (n + (l.dot ? 1 : 0)) * 6;
      g.forEach((row, y) => [...row].forEach((b, x) => b === '1' && on.push([cx + x, y])));
    });
    for (const pass of [0, 1]) {
      on.forEach(([fx, fy], idx) => {
        const c = pass === 0 ? black : idx < dotCells ? rgbOf(l.dot!) : colour;
        const pad = pass === 0 ? Math.max(1, Math.round(l.scale / 2)) : 0;
        for (let y = -pad; y < l.scale + pad; y++) {
          for (let x = -pad; x < l.scale + pad; x++) putDisplayPixel(stored, o, dw, dh, x0 + fx * l.scale + x, y0 + fy * l.scale + y, c);
        }
      });
    }
  }
}

/** Each face's score above its box, and the keypoint legend along the bottom, for a dw x dh displayed image. */
export function layoutLabels(dw: number, dh: number, faces: readonly FaceLike[]): Label[] {
  // About 1/40 of the short side per line of text, whole pixels per font pixel, from 1 to 6.
  const scale = Math.min(6, Math.max(1, Math.round(Math.min(dw, dh) / 40 / 8)));
  const out: Label[] = [];
  for (const f of faces) {
    if (!(Number.isFinite(f.box.xMin) && Number.isFinite(f.box.yMin))) continue;
    const text = f.score.toFixed(2);
    const x = Math.min(Math.max(0, f.box.xMin), dw - labelWidth(text, scale));
    const y = Math.min(Math.max(0, f.box.yMin - 9 * scale), dh - 8 * scale);
    out.push({ x, y, scale, text, colour: BOX_COLOUR });
  }
  // The legend: one entry per keypoint, left to right, if it fits the width at this scale or a smaller one.
  const entries = KEYPOINT_STYLE.map((k) => ` ${k.label}  `);
  const total = entries.reduce((n, e) => n + labelWidth(`.${e}`, 1), 0);
  const ls = Math.min(scale, Math.floor(dw / total));
  if (ls >= 1 && dh > 10 * ls) {
    let x = 2 * ls;
    for (const [i, k] of KEYPOINT_STYLE.entries()) {
      out.push({ x, y: dh - 9 * ls, scale: ls, text: entries[i]!, colour: '#ffffff', dot: k.colour });
      x += labelWidth(`.${entries[i]}`, ls);
    }
  }
  return out;
}

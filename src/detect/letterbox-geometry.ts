// Letterbox geometry and enlarging, without any image library: what the Node letterbox (./letterbox.ts,
// which shrinks with sharp) and the platform-free detector core (./core.ts, browsers) share.
// See ./letterbox.ts for the rules (MediaPipe's keep_aspect_ratio + BORDER_ZERO, pixel-centre mapping).
import type { RgbImage } from '../image/pixels.js';

/** Geometry of one letterbox: source pixels -> model input pixels. */
export interface LetterboxTransform {
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  readonly targetWidth: number;
  readonly targetHeight: number;
  /** Size of the scaled image inside the target. */
  readonly resizedWidth: number;
  readonly resizedHeight: number;
  /** Left and top border, in target pixels. */
  readonly padLeft: number;
  readonly padTop: number;
  /** True when the source is used unchanged (same size, no border). */
  readonly identity: boolean;
}

export function computeLetterbox(sourceWidth: number, sourceHeight: number, targetWidth: number, targetHeight: number): LetterboxTransform {
  for (const [name, v] of [['sourceWidth', sourceWidth], ['sourceHeight', sourceHeight], ['targetWidth', targetWidth], ['targetHeight', targetHeight]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`letterbox: ${name} must be a positive integer, got ${v}`);
  }
  if (sourceWidth === targetWidth && sourceHeight === targetHeight) {
    return { sourceWidth, sourceHeight, targetWidth, targetHeight, resizedWidth: targetWidth, resizedHeight: targetHeight, padLeft: 0, padTop: 0, identity: true };
  }
  const scale = Math.min(targetWidth / sourceWidth, targetHeight / sourceHeight);
  const resizedWidth = Math.min(targetWidth, Math.max(1, Math.round(sourceWidth * scale)));
  const resizedHeight = Math.min(targetHeight, Math.max(1, Math.round(sourceHeight * scale)));
  const padLeft = Math.floor((targetWidth - resizedWidth) / 2);
  const padTop = Math.floor((targetHeight - resizedHeight) / 2);
  return { sourceWidth, sourceHeight, targetWidth, targetHeight, resizedWidth, resizedHeight, padLeft, padTop, identity: false };
}

/** Normalized model coordinates (0..1 over the model input) -> original image pixels. */
export function modelToImage(t: LetterboxTransform, u: number, v: number): { x: number; y: number } {
  if (t.identity) return { x: u * t.sourceWidth, y: v * t.sourceHeight };
  return {
    x: ((u * t.targetWidth - t.padLeft) * t.sourceWidth) / t.resizedWidth,
    y: ((v * t.targetHeight - t.padTop) * t.sourceHeight) / t.resizedHeight,
  };
}

/** Normalized model coordinates -> coordinates normalized over the original image (0..1 over its width/height). */
export function modelToImageNormalized(t: LetterboxTransform, u: number, v: number): { x: number; y: number } {
  if (t.identity) return { x: u, y: v };
  return {
    x: (u * t.targetWidth - t.padLeft) / t.resizedWidth,
    y: (v * t.targetHeight - t.padTop) / t.resizedHeight,
  };
}

/** Original image pixels -> normalized model coordinates (inverse of modelToImage). */
export function imageToModel(t: LetterboxTransform, x: number, y: number): { u: number; v: number } {
  if (t.identity) return { u: x / t.sourceWidth, v: y / t.sourceHeight };
  return {
    u: ((x * t.resizedWidth) / t.sourceWidth + t.padLeft) / t.targetWidth,
    v: ((y * t.resizedHeight) / t.sourceHeight + t.padTop) / t.targetHeight,
  };
}

/** Two-tap bilinear weights along one axis: output i samples the source at (i + 0.5) * n / m - 0.5, clamped to [0, n-1]. */
function taps(n: number, m: number): { lo: Int32Array; hi: Int32Array; frac: Float64Array } {
  const lo = new Int32Array(m), hi = new Int32Array(m), frac = new Float64Array(m);
  const step = n / m;
  for (let i = 0; i < m; i++) {
    const s = Math.min(n - 1, Math.max(0, (i + 0.5) * step - 0.5));
    const s0 = Math.floor(s);
    lo[i] = s0;
    hi[i] = Math.min(s0 + 1, n - 1);
    frac[i] = s - s0;
  }
  return { lo, hi, frac };
}

/**
 * Enlarge to the transform's resized size with separable bilinear interpolation on the transform's
 * pixel-centre mapping, written straight into the black target canvas. Only used when no side shrinks
 * (bilinear does not antialias), so the source is at most the target size.
 */
export function enlargeBilinear(image: RgbImage, t: LetterboxTransform): Uint8Array {
  const { width: w, height: h, data: src } = image;
  const rw = t.resizedWidth, rh = t.resizedHeight;
  const out = new Uint8Array(t.targetWidth * t.targetHeight * 3);
  const xt = taps(w, rw), yt = taps(h, rh);
  // Horizontal pass: every source row resampled to rw pixels.
  const rows = new Float64Array(h * rw * 3);
  for (let y = 0; y < h; y++) {
    const srow = y * w * 3, drow = y * rw * 3;
    for (let x = 0; x < rw; x++) {
      const a = srow + xt.lo[x]! * 3, b = srow + xt.hi[x]! * 3, f = xt.frac[x]!, d = drow + x * 3;
      for (let c = 0; c < 3; c++) {
        const va = src[a + c]!;
        rows[d + c] = va + (src[b + c]! - va) * f;
      }
    }
  }
  // Vertical pass, rounded to 8 bits into the scaled area of the canvas.
  for (let y = 0; y < rh; y++) {
    const a = yt.lo[y]! * rw * 3, b = yt.hi[y]! * rw * 3, f = yt.frac[y]!;
    const d = ((t.padTop + y) * t.targetWidth + t.padLeft) * 3;
    for (let i = 0; i < rw * 3; i++) {
      const va = rows[a + i]!;
      out[d + i] = Math.round(va + (rows[b + i]! - va) * f);
    }
  }
  return out;
}

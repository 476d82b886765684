// Browser image sources -> packed 8-bit pixels for the detector core. Drawable sources go through a
// 2D canvas at their natural size (no scaling, so the letterbox geometry stays the core's own);
// ImageData and raw arrays are used directly. Errors name the input and say what was expected.
import { InputImageError } from '../errors.js';
import type { PixelImage } from '../detect/core.js';

/** Raw pixels: RGBA or RGB, row-major. `channels` may be left out when the length decides it. */
export interface BrowserRawImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels?: 3 | 4;
  readonly label?: string;
}

export type BrowserImageInput =
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap
  | VideoFrame
  | BrowserRawImage;

const has = (name: string): boolean => typeof (globalThis as Record<string, unknown>)[name] === 'function';
const isA = <T>(input: unknown, name: string): input is T => has(name) && input instanceof ((globalThis as Record<string, unknown>)[name] as new () => T);

export function browserInputLabel(input: BrowserImageInput, index?: number): string {
  const suffix = index === undefined ? '' : ` #${index}`;
  if (isA<HTMLImageElement>(input, 'HTMLImageElement')) return input.currentSrc || input.src || `<img${suffix}>`;
  if (isA<ImageData>(input, 'ImageData')) return `<ImageData ${input.width}x${input.height}${suffix}>`;
  if ('data' in input && 'width' in input) return (input as BrowserRawImage).label ?? `<raw ${input.width}x${input.height}${suffix}>`;
  return `<${input.constructor?.name ?? 'input'}${suffix}>`;
}

function rawPixels(raw: BrowserRawImage, label: string): PixelImage {
  const { data, width, height } = raw;
  const fail = (code: string, msg: string): never => {
    throw new InputImageError(code, `${label}: ${msg}`, { file: label });
  };
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) fail('IMAGE_RAW_TYPE', 'raw pixel data must be a Uint8Array or Uint8ClampedArray');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    fail('IMAGE_SIZE', `image size must be positive integers, got ${String(width)}x${String(height)}`);
  }
  let channels = raw.channels;
  if (channels === undefined) {
    const rgb = data.length === width * height * 3;
    const rgba = data.length === width * height * 4;
    // 3wh = 4wh only for an empty image, which the size check refused: one of the two at most.
    if (!rgb && !rgba) {
      fail('IMAGE_RAW_LENGTH', `raw data holds ${data.length} values; ${width}x${height} needs ${width * height * 3} (RGB) or ${width * height * 4} (RGBA)`);
    }
    channels = rgba ? 4 : 3;
  }
  return { data, width, height, channels };
}

function naturalSize(input: BrowserImageInput, label: string): { width: number; height: number } {
  let width: number, height: number;
  if (isA<HTMLImageElement>(input, 'HTMLImageElement')) {
    if (!input.complete) throw new InputImageError('IMAGE_NOT_READY', `${label}: the image has not finished loading (await img.decode() first)`, { file: label });
    [width, height] = [input.naturalWidth, input.naturalHeight];
  } else if (isA<HTMLVideoElement>(input, 'HTMLVideoElement')) {
    if (input.readyState < 2) throw new InputImageError('IMAGE_NOT_READY', `${label}: the video has no current frame yet (readyState ${input.readyState})`, { file: label });
    [width, height] = [input.videoWidth, input.videoHeight];
  } else if (isA<VideoFrame>(input, 'VideoFrame')) {
    [width, height] = [input.displayWidth, input.displayHeight];
  } else {
    const s = input as { width: number; height: number };
    [width, height] = [s.width, s.height];
  }
  if (!(width > 0 && height > 0)) throw new InputImageError('IMAGE_SIZE', `${label}: image is ${width}x${height}`, { file: label });
  return { width, height };
}

let scratch: { canvas: OffscreenCanvas | HTMLCanvasElement; ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D } | null = null;

function context2d(width: number, height: number, label: string) {
  if (!scratch) {
    const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!ctx) throw new InputImageError('IMAGE_CANVAS', `${label}: this browser gives no 2D canvas context to read pixels with`, { file: label });
    scratch = { canvas, ctx };
  }
  if (scratch.canvas.width !== width || scratch.canvas.height !== height) {
    scratch.canvas.width = width;
    scratch.canvas.height = height;
  }
  return scratch.ctx;
}

/** Pixels of any accepted input, at its natural size. */
export function browserPixels(input: BrowserImageInput, label: string): PixelImage {
  if (input === null || typeof input !== 'object') {
    throw new InputImageError('IMAGE_INPUT_TYPE', `${label}: expected ImageData, an image/canvas/video element, OffscreenCanvas, ImageBitmap, VideoFrame or {data, width, height}`, { file: label });
  }
  if (isA<ImageData>(input, 'ImageData')) return { data: input.data, width: input.width, height: input.height, channels: 4 };
  const drawable =
    isA(input, 'HTMLImageElement') || isA(input, 'HTMLCanvasElement') || isA(input, 'HTMLVideoElement') ||
    isA(input, 'OffscreenCanvas') || isA(input, 'ImageBitmap') || isA(input, 'VideoFrame');
  if (!drawable) {
    if ('data' in input) return rawPixels(input as BrowserRawImage, label);
    throw new InputImageError('IMAGE_INPUT_TYPE', `${label}: expected ImageData, an image/canvas/video element, OffscreenCanvas, ImageBitmap, VideoFrame or {data, width, height}`, { file: label });
  }
  const { width, height } = naturalSize(input, label);
  const ctx = context2d(width, height, label);
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(input as CanvasImageSource, 0, 0, width, height);
  // A cross-origin image without CORS taints the canvas: getImageData throws a SecurityError.
  try {
    return { data: ctx.getImageData(0, 0, width, height).data, width, height, channels: 4 };
  } catch (err) {
    throw new InputImageError('IMAGE_TAINTED', `${label}: cannot read its pixels (${err instanceof Error ? err.message : String(err)}); serve it from the same origin or with CORS`, { file: label, cause: err });
  }
}

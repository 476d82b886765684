// Which image format a byte string is, from its magic bytes (never the file name). Only raster formats
// are accepted: vector and document formats (SVG, PDF) make the decoder fetch or render other content,
// e.g. an SVG <image href> pulls in a sibling file or a data URI.

/** Raster formats the detector decodes, and the name sharp's metadata() reports for each. */
export const RASTER_FORMATS = {
  png: 'png',
  jpeg: 'jpeg',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif', // AVIF is HEIF with AV1 pixels; sharp reports the container
} as const;
export type RasterFormat = keyof typeof RASTER_FORMATS;

export type Sniffed = { readonly accepted: true; readonly format: RasterFormat } | { readonly accepted: false; readonly format: string };

const ascii = (b: Uint8Array, start: number, end: number): string => String.fromCharCode(...b.subarray(start, end));
const startsWith = (b: Uint8Array, bytes: readonly number[], at = 0): boolean => bytes.every((v, i) => b[at + i] === v);

/** ISO-BMFF `ftyp` brands (major + compatible), when the bytes start with an ftyp box. */
function ftypBrands(b: Uint8Array): string[] | null {
  if (b.length < 16 || ascii(b, 4, 8) !== 'ftyp') return null;
  const size = Math.min(b.length, ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
  const brands = [ascii(b, 8, 12)];
  for (let p = 16; p + 4 <= size; p += 4) brands.push(ascii(b, p, p + 4));
  return brands;
}

/** Printable text (ASCII/UTF-8 without control bytes other than whitespace) in the first bytes. */
function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const v = b[i]!;
    if (v < 0x09 || (v > 0x0d && v < 0x20) || v === 0x7f) return false;
  }
  return true;
}

/** The format of `bytes` (the first few hundred bytes suffice). */
export function sniffImageFormat(bytes: Uint8Array): Sniffed {
  const b = bytes;
  const ok = (format: RasterFormat): Sniffed => ({ accepted: true, format });
  const no = (format: string): Sniffed => ({ accepted: false, format });
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return ok('png');
  if (startsWith(b, [0xff, 0xd8, 0xff])) return ok('jpeg');
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return ok('webp');
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return ok('gif');
  // Classic TIFF (42) and BigTIFF (43), both byte orders.
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return ok('tiff');
  if (startsWith(b, [0x49, 0x49, 0x2b, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])) return ok('tiff');
  const brands = ftypBrands(b);
  if (brands) {
    if (brands.some((x) => x === 'avif' || x === 'avis') && !brands.some((x) => /^he[ivx]|^hevc|^hevx/.test(x))) return ok('avif');
    if (brands.includes('jp2 ') || brands.includes('jpx ')) return no('JPEG 2000');
    if (brands.includes('jxl ')) return no('JPEG XL');
    if (brands.some((x) => /^(hei|hev|mif1|msf1)/.test(x))) return no('HEIF/HEIC');
    return no(`ISO media (ftyp ${brands[0]!.trim()})`);
  }
  if (startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51])) return no('JPEG 2000');
  if (startsWith(b, [0xff, 0x0a]) || startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return no('JPEG XL');
  if (b.length >= 5 && ascii(b, 0, 5) === '%PDF-') return no('PDF');
  if (startsWith(b, [0x1f, 0x8b])) return no('gzip (e.g. SVGZ)');
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') return no('BMP');
  if (b.length >= 4 && ascii(b, 0, 4) === '8BPS') return no('Photoshop PSD');
  if (startsWith(b, [0x76, 0x2f, 0x31, 0x01])) return no('OpenEXR');
  if (b.length >= 2 && /^P[1-7fF]$/.test(ascii(b, 0, 2))) return no('PNM/PFM');
  // Markup: optional UTF-8 BOM and whitespace, then '<' (an SVG, or XML/HTML that may hold one).
  let p = startsWith(b, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (p < b.length && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0a || b[p] === 0x0d)) p++;
  if (b[p] === 0x3c) {
    const head = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(p, Math.min(b.length, p + 1024))).toLowerCase();
    return no(head.includes('<svg') ? 'SVG' : 'XML/HTML markup');
  }
  if (looksLikeText(b)) return no('text');
  const hex = Array.from(b.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
  return no(`unknown (first bytes ${hex || 'none'})`);
}

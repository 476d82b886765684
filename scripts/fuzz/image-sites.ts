// Header fields of PNG / JPEG / WebP files that decoders trust: image dimensions, chunk and segment
// lengths, bit depths. Mutating these (rather than random pixels) reaches size arithmetic and bounds checks.
export interface ImageSite {
  readonly pos: number;
  readonly size: 1 | 2 | 4;
  readonly bigEndian: boolean;
  readonly what: string;
}

function pngSites(b: Uint8Array, out: ImageSite[]): void {
  for (let p = 8; p + 8 <= b.byteLength; ) {
    const len = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const type = String.fromCharCode(b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    out.push({ pos: p, size: 4, bigEndian: true, what: `PNG ${type} chunk length` });
    if (type === 'IHDR') {
      out.push({ pos: p + 8, size: 4, bigEndian: true, what: 'PNG IHDR width' });
      out.push({ pos: p + 12, size: 4, bigEndian: true, what: 'PNG IHDR height' });
      out.push({ pos: p + 16, size: 1, bigEndian: true, what: 'PNG IHDR bit depth' });
      out.push({ pos: p + 17, size: 1, bigEndian: true, what: 'PNG IHDR colour type' });
      out.push({ pos: p + 20, size: 1, bigEndian: true, what: 'PNG IHDR interlace' });
    }
    p += 12 + len;
  }
}

function jpegSites(b: Uint8Array, out: ImageSite[]): void {
  for (let p = 2; p + 4 <= b.byteLength && b[p] === 0xff; ) {
    const marker = b[p + 1]!;
    if (marker === 0xd9 || marker === 0xda) {
      out.push({ pos: p + 2, size: 2, bigEndian: true, what: `JPEG SOS length` });
      break;
    }
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    out.push({ pos: p + 2, size: 2, bigEndian: true, what: `JPEG marker 0x${marker.toString(16)} length` });
    if (marker >= 0xc0 && marker <= 0xc3) {
      out.push({ pos: p + 4, size: 1, bigEndian: true, what: 'JPEG SOF precision' });
      out.push({ pos: p + 5, size: 2, bigEndian: true, what: 'JPEG SOF height' });
      out.push({ pos: p + 7, size: 2, bigEndian: true, what: 'JPEG SOF width' });
      out.push({ pos: p + 9, size: 1, bigEndian: true, what: 'JPEG SOF components' });
    }
    if (marker === 0xe1) out.push({ pos: p + 4 + 6 + 8, size: 2, bigEndian: false, what: 'JPEG EXIF IFD0 entry count (little-endian TIFF)' });
    p += 2 + len;
  }
}

function webpSites(b: Uint8Array, out: ImageSite[]): void {
  out.push({ pos: 4, size: 4, bigEndian: false, what: 'WebP RIFF size' });
  for (let p = 12; p + 8 <= b.byteLength; ) {
    const type = String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    const len = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    out.push({ pos: p + 4, size: 4, bigEndian: false, what: `WebP ${type} chunk size` });
    if (type === 'VP8 ') {
      out.push({ pos: p + 8 + 6, size: 2, bigEndian: false, what: 'WebP VP8 width' });
      out.push({ pos: p + 8 + 8, size: 2, bigEndian: false, what: 'WebP VP8 height' });
    } else if (type === 'VP8L') {
      out.push({ pos: p + 9, size: 4, bigEndian: false, what: 'WebP VP8L packed size' });
    } else if (type === 'VP8X') {
      out.push({ pos: p + 12, size: 2, bigEndian: false, what: 'WebP VP8X canvas width' });
      out.push({ pos: p + 15, size: 2, bigEndian: false, what: 'WebP VP8X canvas height' });
    }
    p += 8 + len + (len & 1);
  }
}

export function imageSites(b: Uint8Array): ImageSite[] {
  const out: ImageSite[] = [];
  if (b[0] === 0x89 && b[1] === 0x50) pngSites(b, out);
  else if (b[0] === 0xff && b[1] === 0xd8) jpegSites(b, out);
  else if (String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') webpSites(b, out);
  return out.filter((s) => s.pos + s.size <= b.byteLength);
}

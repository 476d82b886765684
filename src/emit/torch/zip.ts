// The ZIP container PyTorch's PyTorchFileWriter produces (caffe2/serialize/inline_container.cc via miniz):
// STORED entries only, every record's data starting on a 64-byte boundary thanks to a padding extra field
// ('FB' header id, filled with 'Z'), so torch.load can map tensors straight from the file.
// Unlike torch we write sizes and CRCs in the local headers (no data descriptors) and a fixed DOS
// timestamp, which keeps the bytes deterministic and readable by any unzip.

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface ZipOptions {
  /** Data alignment in bytes (torch: 64). */
  readonly alignment?: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIR = 0x06054b50;
const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const EOCD_SIZE = 22;
/** Extra-field header id torch uses for its alignment padding: the bytes 'F','B'. */
export const TORCH_PADDING_HEADER_ID = 0x4246;
/** 1980-01-01 00:00:00, the earliest DOS date: a fixed stamp so the same input gives the same bytes. */
export const FIXED_DOS_DATE = (0 << 9) | (1 << 5) | 1;
export const FIXED_DOS_TIME = 0;
const VERSION_20 = 20;

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO-HDLC, the one ZIP uses: reflected polynomial 0xEDB88320). */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Bytes of the padding extra field that makes the data of a record starting at `headerOffset` aligned. */
function paddingSize(headerOffset: number, nameLength: number, alignment: number): number {
  // Same rule as torch's getPadding: the 4-byte extra header is always present, so the pad is 1..alignment.
  const start = headerOffset + LOCAL_HEADER_SIZE + nameLength + 4;
  return alignment - (start % alignment);
}

/** Write `entries` (in the given order) as an uncompressed ZIP archive. */
export function writeStoredZip(entries: readonly ZipEntry[], options: ZipOptions = {}): Uint8Array {
  const alignment = options.alignment ?? 64;
  if (entries.length > 0xffff) throw new Error(`zip: ${entries.length} entries need ZIP64, which this writer does not emit`);
  const encoder = new TextEncoder();
  const prepared = entries.map((e) => {
    const name = encoder.encode(e.name);
    if (name.length > 0xffff) throw new Error(`zip: entry name too long: ${e.name.slice(0, 40)}...`);
    return { name, data: e.data, crc: crc32(e.data) };
  });

  // First pass: offsets, so the output buffer is allocated once.
  const layout: { offset: number; pad: number }[] = [];
  let offset = 0;
  for (const e of prepared) {
    const pad = alignment > 1 ? paddingSize(offset, e.name.length, alignment) : 0;
    const extra = alignment > 1 ? 4 + pad : 0;
    if (extra > 0xffff) throw new Error(`zip: alignment ${alignment} too large for an extra field`);
    layout.push({ offset, pad });
    offset += LOCAL_HEADER_SIZE + e.name.length + extra + e.data.length;
  }
  const centralStart = offset;
  const centralSize = prepared.reduce((s, e) => s + CENTRAL_HEADER_SIZE + e.name.length, 0);
  const total = centralStart + centralSize + EOCD_SIZE;
  if (total > 0xffffffff) throw new Error(`zip: archive of ${total} bytes needs ZIP64, which this writer does not emit`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  prepared.forEach((e, i) => {
    const { offset: at, pad } = layout[i]!;
    const extra = alignment > 1 ? 4 + pad : 0;
    view.setUint32(at, LOCAL_HEADER, true);
    view.setUint16(at + 4, VERSION_20, true);
    view.setUint16(at + 6, 0, true); // flags: sizes known up front, no data descriptor
    view.setUint16(at + 8, 0, true); // method: STORED
    view.setUint16(at + 10, FIXED_DOS_TIME, true);
    view.setUint16(at + 12, FIXED_DOS_DATE, true);
    view.setUint32(at + 14, e.crc, true);
    view.setUint32(at + 18, e.data.length, true);
    view.setUint32(at + 22, e.data.length, true);
    view.setUint16(at + 26, e.name.length, true);
    view.setUint16(at + 28, extra, true);
    out.set(e.name, at + LOCAL_HEADER_SIZE);
    let p = at + LOCAL_HEADER_SIZE + e.name.length;
    if (extra > 0) {
      view.setUint16(p, TORCH_PADDING_HEADER_ID, true);
      view.setUint16(p + 2, pad, true);
      out.fill(0x5a /* 'Z' */, p + 4, p + 4 + pad);
      p += extra;
    }
    out.set(e.data, p);
  });

  let c = centralStart;
  prepared.forEach((e, i) => {
    view.setUint32(c, CENTRAL_HEADER, true);
    view.setUint16(c + 4, VERSION_20, true); // made by: MS-DOS, spec 2.0 (no unix permissions to carry)
    view.setUint16(c + 6, VERSION_20, true);
    view.setUint16(c + 8, 0, true);
    view.setUint16(c + 10, 0, true);
    view.setUint16(c + 12, FIXED_DOS_TIME, true);
    view.setUint16(c + 14, FIXED_DOS_DATE, true);
    view.setUint32(c + 16, e.crc, true);
    view.setUint32(c + 20, e.data.length, true);
    view.setUint32(c + 24, e.data.length, true);
    view.setUint16(c + 28, e.name.length, true);
    view.setUint16(c + 30, 0, true); // extra (torch keeps the padding out of the central directory too)
    view.setUint16(c + 32, 0, true); // comment
    view.setUint16(c + 34, 0, true); // disk number
    view.setUint16(c + 36, 0, true); // internal attributes
    view.setUint32(c + 38, 0, true); // external attributes
    view.setUint32(c + 42, layout[i]!.offset, true);
    out.set(e.name, c + CENTRAL_HEADER_SIZE);
    c += CENTRAL_HEADER_SIZE + e.name.length;
  });

  view.setUint32(c, END_OF_CENTRAL_DIR, true);
  view.setUint16(c + 4, 0, true);
  view.setUint16(c + 6, 0, true);
  view.setUint16(c + 8, prepared.length, true);
  view.setUint16(c + 10, prepared.length, true);
  view.setUint32(c + 12, centralSize, true);
  view.setUint32(c + 16, centralStart, true);
  view.setUint16(c + 20, 0, true);
  return out;
}

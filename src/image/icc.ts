// The two facts the fast decode path needs from an embedded ICC profile: its colour space (header bytes
// 16..19) and its description (the 'desc' tag, v2 'desc' or v4 'mluc'). Written here rather than using the
// `icc` npm package, which looped forever on a mutated profile (npm run fuzz, seed 20261203, case 9473):
// every read below is bounds-checked and every loop is bounded by the profile's length.

export interface IccSummary {
  readonly colorSpace: string;
  readonly description?: string;
}

/** Colour space and description of an ICC profile; throws on anything malformed (the caller then converts). */
export function readIccSummary(icc: Uint8Array): IccSummary {
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const need = (offset: number, length: number) => {
    if (!(offset >= 0 && length >= 0 && offset + length <= icc.byteLength)) throw new Error(`ICC profile: ${length} bytes at ${offset} are past its end (${icc.byteLength})`);
  };
  const ascii = (offset: number, length: number) => {
    need(offset, length);
    return String.fromCharCode(...icc.subarray(offset, offset + length));
  };
  need(0, 132);
  const colorSpace = ascii(16, 4).trim();
  const tagCount = view.getUint32(128);
  if (tagCount > (icc.byteLength - 132) / 12) throw new Error(`ICC profile: ${tagCount} tags do not fit`);
  for (let t = 0; t < tagCount; t++) {
    const entry = 132 + t * 12;
    if (ascii(entry, 4) !== 'desc') continue;
    const offset = view.getUint32(entry + 4);
    const size = view.getUint32(entry + 8);
    need(offset, size);
    return { colorSpace, description: tagText(icc, view, offset, size, ascii, need) };
  }
  return { colorSpace };
}

function tagText(
  icc: Uint8Array,
  view: DataView,
  offset: number,
  size: number,
  ascii: (o: number, n: number) => string,
  need: (o: number, n: number) => void,
): string | undefined {
  if (size < 12) return undefined;
  const type = ascii(offset, 4);
  if (type === 'desc') {
    const count = view.getUint32(offset + 8);
    if (count > size - 12) throw new Error('ICC profile: desc text longer than its tag');
    return ascii(offset + 12, count).replace(/\0+$/, '');
  }
  if (type === 'mluc') {
    need(offset, 16);
    const records = view.getUint32(offset + 8);
    if (records === 0) return undefined;
    need(offset + 16, 12);
    // The first record (any language): UTF-16BE text at an offset from the tag start.
    const length = view.getUint32(offset + 20);
    const start = offset + view.getUint32(offset + 24);
    if (length > size) throw new Error('ICC profile: mluc text longer than its tag');
    need(start, length);
    let text = '';
    for (let i = 0; i + 1 < length; i += 2) text += String.fromCharCode(view.getUint16(start + i));
    return text.replace(/\0+$/, '');
  }
  return undefined;
}

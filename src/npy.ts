// NumPy .npy files (format 1.0; 2.0/3.0 read): a writer whose bytes equal numpy.save's
// (numpy >= 1.24: header padded to 64 bytes, with 21-digit growth room for the first axis) and a reader
// for float arrays, with typed errors naming the file and byte offset.
import { readFile } from 'node:fs/promises';
import { ToolkitError } from './errors.js';
import { writeFileAtomic } from './util/fs.js';

export type NpyDtype = '<f8' | '<f4' | '>f8' | '>f4';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Elements in C (row-major) order, converted to the platform's endianness. */
  data: Float64Array | Float32Array;
  /** Format version of the file, e.g. [1, 0]. */
  version: [number, number];
}

/** A .npy file (or the array passed to the writer) is malformed or uses a feature not supported here. */
export class NpyFormatError extends ToolkitError {
  /** Byte offset in the file where the problem was found. */
  readonly offset?: number;
  constructor(code: string, message: string, options: { file?: string; offset?: number } = {}) {
    const where = options.file ? `${options.file}${options.offset === undefined ? '' : ` @${options.offset}`}: ` : '';
    super(code, `${where}${message}`, { file: options.file });
    this.offset = options.offset;
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const MAGIC_LEN = 8; // magic + major + minor
const ARRAY_ALIGN = 64; // numpy.lib.format.ARRAY_ALIGN
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS

/** Python's repr of a tuple of ints: (), (5,), (896, 4). */
export function pythonShapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function checkShape(shape: readonly number[], length: number): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new NpyFormatError('NPY_BAD_SHAPE', `shape ${JSON.stringify(shape)} has a non-integer or negative dimension`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== length) throw new NpyFormatError('NPY_BAD_SHAPE', `shape ${pythonShapeRepr(shape)} holds ${size} elements but the data has ${length}`);
}

/** The header bytes numpy.save writes for a C-ordered array of this dtype and shape (magic included). */
export function npyHeader(descr: NpyDtype, shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pythonShapeRepr(shape)}, }`;
  // numpy leaves room to grow the first axis in place.
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1; // + '\n'
  // Version 1.0 stores the header length in 2 bytes; numpy falls back to 2.0 (4 bytes) when it overflows.
  let sizeBytes = 2;
  let padlen = ARRAY_ALIGN - ((MAGIC_LEN + sizeBytes + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    sizeBytes = 4;
    padlen = ARRAY_ALIGN - ((MAGIC_LEN + sizeBytes + hlen) % ARRAY_ALIGN);
  }
  const total = MAGIC_LEN + sizeBytes + hlen + padlen;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = sizeBytes === 2 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (sizeBytes === 2) view.setUint16(MAGIC_LEN, hlen + padlen, true);
  else view.setUint32(MAGIC_LEN, hlen + padlen, true);
  const text = dict + ' '.repeat(padlen) + '\n';
  for (let i = 0; i < text.length; i++) out[MAGIC_LEN + sizeBytes + i] = text.charCodeAt(i);
  return out;
}

/** Bytes of numpy.save(file, array) for a little-endian C-ordered float64 ('<f8') or float32 ('<f4') array. */
export function encodeNpy(data: Float64Array | Float32Array, shape: readonly number[]): Uint8Array {
  checkShape(shape, data.length);
  const descr: NpyDtype = data instanceof Float64Array ? '<f8' : '<f4';
  const header = npyHeader(descr, shape);
  const out = new Uint8Array(header.length + data.length * data.BYTES_PER_ELEMENT);
  out.set(header, 0);
  // DataView: little-endian output whatever the host's byte order.
  const view = new DataView(out.buffer, header.length);
  if (data instanceof Float64Array) data.forEach((v, i) => view.setFloat64(i * 8, v, true));
  else data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

type PyValue = string | boolean | number | number[];

// Minimal parser for the header: a Python dict literal with string keys and str / bool / tuple-of-int values.
function parseHeaderDict(text: string, base: number, file?: string): Map<string, PyValue> {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new NpyFormatError('NPY_BAD_HEADER', `${msg} in header ${JSON.stringify(text.trim())}`, { file, offset: base + pos });
  };
  const ws = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (ch: string): void => {
    ws();
    if (text[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };
  const str = (): string => {
    ws();
    const q = text[pos];
    if (q !== "'" && q !== '"') return fail('expected a string');
    const end = text.indexOf(q, pos + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(pos + 1, end);
    pos = end + 1;
    return s;
  };
  const int = (): number => {
    ws();
    const m = /^\d+L?/.exec(text.slice(pos));
    if (!m) return fail('expected an integer');
    pos += m[0].length;
    return Number(m[0].replace('L', ''));
  };
  const value = (): PyValue => {
    ws();
    const c = text[pos];
    if (c === "'" || c === '"') return str();
    for (const [word, b] of [['True', true], ['False', false]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return b;
      }
    }
    if (c === '(') {
      pos++;
      const items: number[] = [];
      for (;;) {
        ws();
        if (text[pos] === ')') break;
        items.push(int());
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ')') fail("expected ',' or ')' in shape");
      }
      pos++;
      return items;
    }
    if (c === '[') {
      throw new NpyFormatError('NPY_UNSUPPORTED_DTYPE', 'structured dtypes are not supported', { file, offset: base + pos });
    }
    return fail('unexpected value');
  };
  const dict = new Map<string, PyValue>();
  expect('{');
  for (;;) {
    ws();
    if (text[pos] === '}') break;
    const key = str();
    expect(':');
    dict.set(key, value());
    ws();
    if (text[pos] === ',') pos++;
    else if (text[pos] !== '}') fail("expected ',' or '}'");
  }
  pos++;
  ws();
  if (pos !== text.length) fail('trailing characters after the dict');
  return dict;
}

/** Parse .npy bytes. Only float32/float64 C-ordered arrays are supported (what this toolkit writes). */
export function decodeNpy(bytes: Uint8Array, file?: string): NpyArray {
  if (bytes.length < MAGIC_LEN || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyFormatError('NPY_BAD_MAGIC', 'not a .npy file (missing "\\x93NUMPY" magic)', { file, offset: 0 });
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new NpyFormatError('NPY_UNSUPPORTED_VERSION', `unsupported format version ${major}.${minor}`, { file, offset: 6 });
  }
  const sizeBytes = major === 1 ? 2 : 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < MAGIC_LEN + sizeBytes) throw new NpyFormatError('NPY_TRUNCATED', 'file ends inside the header length', { file, offset: bytes.length });
  const hlen = sizeBytes === 2 ? view.getUint16(MAGIC_LEN, true) : view.getUint32(MAGIC_LEN, true);
  const headerStart = MAGIC_LEN + sizeBytes;
  const dataStart = headerStart + hlen;
  if (bytes.length < dataStart) {
    throw new NpyFormatError('NPY_TRUNCATED', `header claims ${hlen} bytes but the file has ${bytes.length - headerStart} after the length`, { file, offset: bytes.length });
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const text = Buffer.from(headerBytes).toString(major === 3 ? 'utf8' : 'latin1');
  const dict = parseHeaderDict(text, headerStart, file);
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') {
    throw new NpyFormatError('NPY_BAD_HEADER', `header keys are {${keys}}, expected descr, fortran_order, shape`, { file, offset: headerStart });
  }
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof fortran !== 'boolean') throw new NpyFormatError('NPY_BAD_HEADER', "'fortran_order' is not True/False", { file, offset: headerStart });
  if (!Array.isArray(shape)) throw new NpyFormatError('NPY_BAD_HEADER', "'shape' is not a tuple of integers", { file, offset: headerStart });
  if (descr !== '<f8' && descr !== '<f4' && descr !== '>f8' && descr !== '>f4') {
    throw new NpyFormatError('NPY_UNSUPPORTED_DTYPE', `dtype ${JSON.stringify(descr)} is not supported (expected <f8, <f4, >f8 or >f4)`, { file, offset: headerStart });
  }
  if (fortran) {
    throw new NpyFormatError('NPY_FORTRAN_ORDER', 'Fortran-ordered arrays are not supported', { file, offset: headerStart });
  }
  const itemSize = descr.endsWith('8') ? 8 : 4;
  const little = descr.startsWith('<');
  const count = shape.reduce((a, b) => a * b, 1);
  const expectedBytes = count * itemSize;
  const actualBytes = bytes.length - dataStart;
  if (actualBytes !== expectedBytes) {
    throw new NpyFormatError(
      actualBytes < expectedBytes ? 'NPY_TRUNCATED' : 'NPY_SIZE_MISMATCH',
      `shape ${pythonShapeRepr(shape)} of ${descr} needs ${expectedBytes} data bytes, found ${actualBytes}`,
      { file, offset: dataStart },
    );
  }
  const data = itemSize === 8 ? new Float64Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    data[i] = itemSize === 8 ? view.getFloat64(dataStart + i * 8, little) : view.getFloat32(dataStart + i * 4, little);
  }
  return { dtype: descr, shape, data, version: [major, minor] };
}

export async function readNpyFile(file: string): Promise<NpyArray> {
  return decodeNpy(new Uint8Array(await readFile(file)), file);
}

/** Write atomically; returns the bytes written (for hashing). */
export async function writeNpyFile(file: string, data: Float64Array | Float32Array, shape: readonly number[]): Promise<Uint8Array> {
  const bytes = encodeNpy(data, shape);
  await writeFileAtomic(file, bytes);
  return bytes;
}

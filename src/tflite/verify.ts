// Structural verifier for TFLite flatbuffers (the subset in schemas/tflite.fbs), run before any
// generated accessor touches the bytes. flatbuffers' JavaScript runtime does no bounds checks: a
// truncated or corrupt file would read past the end (garbage or RangeError). This walks every
// table, vector and string the reader uses, like flatbuffers' C++ Verifier, and reports the first
// problem with its byte offset. Field ids follow the official schema order (vtable slot = 4 + 2*id).
import { TfliteFormatError } from '../errors.js';

export const TFLITE_IDENTIFIER = 'TFL3';

/** Union discriminants of BuiltinOptions -> field byte sizes of that options table (official order). */
const OPTION_FIELDS: Readonly<Record<number, readonly number[]>> = {
  1: [1, 4, 4, 1, 4, 4], // Conv2DOptions
  2: [1, 4, 4, 4, 1, 4, 4], // DepthwiseConv2DOptions
  5: [1, 4, 4, 4, 4, 1], // Pool2DOptions
  10: [4, 1], // ConcatenationOptions
  11: [1, 1], // AddOptions
  15: [4, 4, 1, 1], // ResizeBilinearOptions
  17: [], // ReshapeOptions (new_shape vector checked separately)
  22: [], // PadOptions
  38: [], // DequantizeOptions
  94: [4], // DepthToSpaceOptions
  99: [], // DensifyOptions
};

interface Table {
  readonly pos: number;
  readonly vtable: number;
  readonly vtableSize: number;
  readonly size: number;
  readonly what: string;
}

/** Table and vector bytes a walk may visit, as a multiple of the file size (see Verifier.account). */
const VISIT_BUDGET_FACTOR = 8;

class Verifier {
  private readonly view: DataView;
  private visited = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string, offset: number, expected: string): never {
    throw new TfliteFormatError(
      'TFLITE_OUT_OF_BOUNDS',
      `${this.file}: ${what} at byte offset ${offset}: ${expected} (file is ${this.bytes.byteLength} bytes; truncated or corrupt?)`,
      { file: this.file, offset },
    );
  }

  range(pos: number, size: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || size < 0 || pos + size > this.bytes.byteLength) {
      this.fail(what, pos, `expected ${size} bytes inside the file`);
    }
  }

  // Offsets may share one table or vector many times over (a 160 KB file can name a 20000-entry shape
  // 20000 times), and the reader materializes every visit: bound the total. Honest files visit each
  // byte once (vtables, which are legitimately shared, are not counted).
  account(bytes: number, what: string, pos: number): void {
    this.visited += bytes;
    const budget = VISIT_BUDGET_FACTOR * this.bytes.byteLength;
    if (this.visited > budget) {
      throw new TfliteFormatError(
        'TFLITE_TOO_LARGE',
        `${this.file}: ${what} at byte offset ${pos}: tables and vectors reached through shared offsets exceed ${budget} bytes (${VISIT_BUDGET_FACTOR}x the file size)`,
        { file: this.file, offset: pos },
      );
    }
  }

  u32(pos: number, what: string): number {
    this.range(pos, 4, what);
    return this.view.getUint32(pos, true);
  }

  table(pos: number, what: string): Table {
    if (pos % 4 !== 0) this.fail(what, pos, 'expected a 4-byte aligned table');
    this.range(pos, 4, what);
    const vtable = pos - this.view.getInt32(pos, true);
    this.range(vtable, 4, `${what} vtable`);
    const vtableSize = this.view.getUint16(vtable, true);
    const size = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.fail(`${what} vtable`, vtable, `expected an even vtable size >= 4, got ${vtableSize}`);
    this.range(vtable, vtableSize, `${what} vtable`);
    if (size < 4) this.fail(what, pos, `expected a table size >= 4, got ${size}`);
    this.range(pos, size, what);
    this.account(size, what, pos);
    return { pos, vtable, vtableSize, size, what };
  }

  /** Absolute position of field `id` of `size` bytes, or 0 when absent. */
  field(t: Table, id: number, size: number, name: string): number {
    const slot = 4 + 2 * id;
    if (slot + 2 > t.vtableSize) return 0;
    const off = this.view.getUint16(t.vtable + slot, true);
    if (off === 0) return 0;
    if (off + size > t.size) this.fail(`${t.what}.${name}`, t.pos + off, `field of ${size} bytes runs past its table (${t.size} bytes)`);
    return t.pos + off;
  }

  scalars(t: Table, sizes: readonly number[], firstId = 0): void {
    sizes.forEach((size, i) => this.field(t, firstId + i, size, `field#${firstId + i}`));
  }

  /** Follow the uoffset stored in field `id`; 0 when absent. */
  ref(t: Table, id: number, name: string): number {
    const at = this.field(t, id, 4, name);
    if (at === 0) return 0;
    const target = at + this.u32(at, `${t.what}.${name}`);
    this.range(target, 4, `${t.what}.${name} target`);
    return target;
  }

  subTable(t: Table, id: number, name: string): Table | null {
    const pos = this.ref(t, id, name);
    if (pos === 0) return null;
    return this.table(pos, `${t.what}.${name}`);
  }

  /** Vector of `elemSize`-byte elements in field `id`: start and element count, or null when absent. */
  vector(t: Table, id: number, elemSize: number, name: string): { start: number; length: number } | null {
    const pos = this.ref(t, id, name);
    if (pos === 0) return null;
    // flatbuffers aligns vectors to their element size; the typed-array accessors rely on it.
    if (pos % 4 !== 0 || (pos + 4) % elemSize !== 0) this.fail(`${t.what}.${name}`, pos, `expected a vector aligned to ${Math.max(4, elemSize)} bytes`);
    const length = this.u32(pos, `${t.what}.${name} length`);
    this.range(pos + 4, length * elemSize, `${t.what}.${name} (${length} x ${elemSize} bytes)`);
    this.account(4 + length * elemSize, `${t.what}.${name}`, pos);
    return { start: pos + 4, length };
  }

  string(t: Table, id: number, name: string): void {
    const v = this.vector(t, id, 1, name);
    // flatbuffers strings carry a trailing NUL after the bytes.
    if (v) this.range(v.start + v.length, 1, `${t.what}.${name} terminator`);
  }

  tables(t: Table, id: number, name: string): Table[] {
    const v = this.vector(t, id, 4, name);
    if (!v) return [];
    const out: Table[] = [];
    for (let i = 0; i < v.length; i++) {
      const at = v.start + 4 * i;
      out.push(this.table(at + this.view.getUint32(at, true), `${t.what}.${name}[${i}]`));
    }
    return out;
  }

  unionType(t: Table, id: number, name: string): number {
    const at = this.field(t, id, 1, name);
    return at === 0 ? 0 : this.bytes[at]!;
  }
}

/** Checks the file header and every table the reader reads; throws TfliteFormatError on the first problem. */
export function verifyTflite(bytes: Uint8Array, file: string): void {
  if (bytes.byteLength < 12) {
    throw new TfliteFormatError('TFLITE_TOO_SMALL', `${file}: ${bytes.byteLength} bytes is too small for a TFLite model (expected at least a root offset, the "TFL3" identifier and a table)`, {
      file,
      offset: 0,
    });
  }
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (ident !== TFLITE_IDENTIFIER) {
    throw new TfliteFormatError(
      'TFLITE_BAD_IDENTIFIER',
      `${file}: file identifier at byte offset 4 is ${JSON.stringify(ident)}, expected "${TFLITE_IDENTIFIER}" (not a TFLite flatbuffer)`,
      { file, offset: 4 },
    );
  }
  const v = new Verifier(bytes, file);
  const model = v.table(v.u32(0, 'root offset'), 'Model');
  v.field(model, 0, 4, 'version');
  for (const code of v.tables(model, 1, 'operator_codes')) {
    v.scalars(code, [1]);
    v.string(code, 1, 'custom_code');
    v.field(code, 2, 4, 'version');
    v.field(code, 3, 4, 'builtin_code');
  }
  for (const sg of v.tables(model, 2, 'subgraphs')) {
    for (const tensor of v.tables(sg, 0, 'tensors')) {
      v.vector(tensor, 0, 4, 'shape');
      v.field(tensor, 1, 1, 'type');
      v.field(tensor, 2, 4, 'buffer');
      v.string(tensor, 3, 'name');
      const q = v.subTable(tensor, 4, 'quantization');
      if (q) {
        v.vector(q, 0, 4, 'min');
        v.vector(q, 1, 4, 'max');
        v.vector(q, 2, 4, 'scale');
        v.vector(q, 3, 8, 'zero_point');
        v.field(q, 6, 4, 'quantized_dimension');
      }
      v.field(tensor, 5, 1, 'is_variable');
      const sp = v.subTable(tensor, 6, 'sparsity');
      if (sp) {
        v.vector(sp, 0, 4, 'traversal_order');
        v.vector(sp, 1, 4, 'block_map');
        for (const dm of v.tables(sp, 2, 'dim_metadata')) {
          v.scalars(dm, [1, 4]);
          for (const [typeId, name] of [
            [2, 'array_segments'],
            [4, 'array_indices'],
          ] as const) {
            const kind = v.unionType(dm, typeId, `${name}_type`);
            const elem = kind === 1 ? 4 : kind === 2 ? 2 : 1;
            const iv = kind === 0 ? null : v.subTable(dm, typeId + 1, name);
            if (iv) v.vector(iv, 0, elem, 'values');
          }
        }
      }
      v.vector(tensor, 7, 4, 'shape_signature');
    }
    v.vector(sg, 1, 4, 'inputs');
    v.vector(sg, 2, 4, 'outputs');
    for (const op of v.tables(sg, 3, 'operators')) {
      v.field(op, 0, 4, 'opcode_index');
      v.vector(op, 1, 4, 'inputs');
      v.vector(op, 2, 4, 'outputs');
      const kind = v.unionType(op, 3, 'builtin_options_type');
      const fields = OPTION_FIELDS[kind];
      const opts = kind === 0 ? null : v.subTable(op, 4, 'builtin_options');
      if (opts && fields) {
        v.scalars(opts, fields);
        if (kind === 17) v.vector(opts, 0, 4, 'new_shape');
      }
      v.vector(op, 5, 1, 'custom_options');
    }
    v.string(sg, 4, 'name');
  }
  v.string(model, 3, 'description');
  for (const buf of v.tables(model, 4, 'buffers')) {
    v.vector(buf, 0, 1, 'data');
    v.field(buf, 1, 8, 'offset');
    v.field(buf, 2, 8, 'size');
  }
  v.vector(model, 5, 4, 'metadata_buffer');
  for (const md of v.tables(model, 6, 'metadata')) {
    v.string(md, 0, 'name');
    v.field(md, 1, 4, 'buffer');
  }
}

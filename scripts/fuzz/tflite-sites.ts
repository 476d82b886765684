// Where the interesting bytes of a .tflite are, so mutations hit structure rather than (mostly) weights:
// scalar fields, vector lengths and elements, uoffsets, vtable entries and sparsity metadata, each with
// a label saying what it is (tensor #12 'x' shape[1]) so a case description can be read and replayed.
// The walk uses flatbuffers' ByteBuffer on the pristine packaged models only (never on mutated bytes).
import * as flatbuffers from 'flatbuffers';

/** ioShape: a dimension of a graph input or output (what preprocessing and decoding size their buffers from). */
export type SiteKind = 'scalar' | 'vecLength' | 'vecElement' | 'uoffset' | 'vtable' | 'sparse' | 'ioShape';

export interface Site {
  readonly pos: number;
  readonly size: 1 | 2 | 4;
  readonly kind: SiteKind;
  readonly what: string;
}

// Field ids of schemas/tflite.fbs (official order).
const F = {
  model: { operatorCodes: 1, subgraphs: 2, buffers: 4 },
  opcode: { deprecated: 0, builtin: 3 },
  subgraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3 },
  tensor: { shape: 0, type: 1, buffer: 2, quantization: 4, sparsity: 6 },
  sparsity: { traversal: 0, blockMap: 1, dimMetadata: 2 },
  dim: { format: 0, denseSize: 1, segmentsType: 2, segments: 3, indicesType: 4, indices: 5 },
  op: { opcode: 0, inputs: 1, outputs: 2, optionsType: 3, options: 4 },
  buffer: { data: 0 },
} as const;

export function tfliteSites(bytes: Uint8Array): Site[] {
  const bb = new flatbuffers.ByteBuffer(bytes);
  const sites: Site[] = [];
  const seenVtables = new Set<number>();
  const add = (pos: number, size: 1 | 2 | 4, kind: SiteKind, what: string): void => {
    sites.push({ pos, size, kind, what });
  };
  const field = (table: number, id: number): number => {
    const o = bb.__offset(table, 4 + 2 * id);
    return o ? table + o : 0;
  };
  const vtable = (table: number, what: string): void => {
    const vt = table - bb.readInt32(table);
    add(table, 4, 'uoffset', `${what} soffset to vtable`);
    if (seenVtables.has(vt)) return;
    seenVtables.add(vt);
    const size = bb.readUint16(vt);
    for (let k = 0; k < size; k += 2) add(vt + k, 2, 'vtable', `${what} vtable entry ${k / 2}`);
  };
  const table = (table: number, what: string): number => {
    vtable(table, what);
    return table;
  };
  const sub = (t: number, id: number, what: string): number => {
    const f = field(t, id);
    if (!f) return 0;
    add(f, 4, 'uoffset', `${what} offset`);
    return table(bb.__indirect(f), what);
  };
  /** Vector in field `id`: records its offset and length word, returns the element start and count. */
  const vec = (t: number, id: number, what: string): { start: number; len: number } | null => {
    const f = field(t, id);
    if (!f) return null;
    add(f, 4, 'uoffset', `${what} offset`);
    const v = bb.__indirect(f);
    add(v, 4, 'vecLength', `${what} length`);
    return { start: v + 4, len: bb.readUint32(v) };
  };
  const ints = (t: number, id: number, what: string, kind: SiteKind = 'vecElement'): void => {
    const v = vec(t, id, what);
    if (v) for (let k = 0; k < v.len; k++) add(v.start + 4 * k, 4, kind, `${what}[${k}]`);
  };
  const tables = (t: number, id: number, what: string): number[] => {
    const v = vec(t, id, what);
    if (!v) return [];
    return Array.from({ length: v.len }, (_, k) => {
      const at = v.start + 4 * k;
      add(at, 4, 'uoffset', `${what}[${k}] offset`);
      return table(at + bb.readUint32(at), `${what}[${k}]`);
    });
  };
  const scalar = (t: number, id: number, size: 1 | 2 | 4, what: string, kind: SiteKind = 'scalar'): void => {
    const f = field(t, id);
    if (f) add(f, size, kind, what);
  };

  const model = table(bb.readUint32(0), 'Model');
  tables(model, F.model.operatorCodes, 'operator_codes').forEach((c, k) => {
    scalar(c, F.opcode.deprecated, 1, `operator_codes[${k}].deprecated_builtin_code`);
    scalar(c, F.opcode.builtin, 4, `operator_codes[${k}].builtin_code`);
  });
  for (const sg of tables(model, F.model.subgraphs, 'subgraphs')) {
    tables(sg, F.subgraph.tensors, 'tensor').forEach((t, i) => {
      const label = `tensor #${i}`;
      ints(t, F.tensor.shape, `${label} shape`);
      scalar(t, F.tensor.type, 1, `${label} type`);
      scalar(t, F.tensor.buffer, 4, `${label} buffer`);
      const q = sub(t, F.tensor.quantization, `${label} quantization`);
      if (q) ints(q, 2, `${label} quantization.scale`);
      const sp = sub(t, F.tensor.sparsity, `${label} sparsity`);
      if (!sp) return;
      ints(sp, F.sparsity.traversal, `${label} sparsity.traversal_order`, 'sparse');
      ints(sp, F.sparsity.blockMap, `${label} sparsity.block_map`, 'sparse');
      tables(sp, F.sparsity.dimMetadata, `${label} dim_metadata`).forEach((dm, d) => {
        const dl = `${label} dim_metadata[${d}]`;
        scalar(dm, F.dim.format, 1, `${dl}.format`, 'sparse');
        scalar(dm, F.dim.denseSize, 4, `${dl}.dense_size`, 'sparse');
        for (const [typeId, id, name] of [
          [F.dim.segmentsType, F.dim.segments, 'array_segments'],
          [F.dim.indicesType, F.dim.indices, 'array_indices'],
        ] as const) {
          const tf = field(dm, typeId);
          if (!tf) continue;
          add(tf, 1, 'sparse', `${dl}.${name}_type`);
          const iv = sub(dm, id, `${dl}.${name}`);
          if (!iv) continue;
          const kind = bytes[tf]!;
          const elem = kind === 1 ? 4 : kind === 2 ? 2 : 1;
          const v = vec(iv, 0, `${dl}.${name}.values`);
          // Large index vectors: sample a bounded number of elements, spread over the vector.
          if (v) {
            const step = Math.max(1, Math.floor(v.len / 64));
            for (let k = 0; k < v.len; k += step) add(v.start + elem * k, elem as 1 | 2 | 4, 'sparse', `${dl}.${name}.values[${k}]`);
            add(v.start + elem * (v.len - 1), elem as 1 | 2 | 4, 'sparse', `${dl}.${name}.values[${v.len - 1}]`);
          }
        }
      });
    });
    ints(sg, F.subgraph.inputs, 'subgraph inputs');
    ints(sg, F.subgraph.outputs, 'subgraph outputs');
    tables(sg, F.subgraph.operators, 'operator').forEach((op, k) => {
      scalar(op, F.op.opcode, 4, `operator #${k} opcode_index`);
      ints(op, F.op.inputs, `operator #${k} inputs`);
      ints(op, F.op.outputs, `operator #${k} outputs`);
      scalar(op, F.op.optionsType, 1, `operator #${k} builtin_options_type`);
      const o = sub(op, F.op.options, `operator #${k} options`);
      // Option tables are all small scalars: expose each present field.
      if (o) {
        const vt = o - bb.readInt32(o);
        const n = (bb.readUint16(vt) - 4) / 2;
        for (let id = 0; id < n; id++) scalar(o, id, 4, `operator #${k} options field ${id}`);
      }
    });
  }
  tables(model, F.model.buffers, 'buffer').forEach((b, k) => {
    vec(b, F.buffer.data, `buffer #${k} data`);
  });
  // Graph input/output shapes get their own kind, so mutations reach them often enough.
  const io = new Set<number>();
  for (const s of sites) if (/^subgraph (inputs|outputs)\[/.test(s.what)) io.add(bb.readInt32(s.pos));
  const isIo = (s: Site): boolean => /^tensor #(\d+) shape\[/.test(s.what) && io.has(Number(/#(\d+)/.exec(s.what)![1]));
  // A scalar of 4 bytes may really be 1 byte wide (bool/enum fields of options): clip to the file.
  return sites.filter((s) => s.pos >= 0 && s.pos + s.size <= bytes.byteLength).map((s) => (isIo(s) ? { ...s, kind: 'ioShape' as const } : s));
}

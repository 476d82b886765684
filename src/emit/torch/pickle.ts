// A small pickle writer (protocol 2), enough for what torch.save puts in data.pkl: globals, calls
// (REDUCE), tuples, ints, strings, booleans, persistent ids (BINPERSID) and dict items (SETITEMS).
// Values are described as a tiny tree and serialized in one pass. Globals and strings are memoized
// (BINPUT/BINGET) the way CPython's pickler memoizes them, which keeps data.pkl small.

export type PyValue =
  | { readonly kind: 'none' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: number | bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'tuple'; readonly items: readonly PyValue[] }
  /** A module attribute, e.g. collections.OrderedDict. */
  | { readonly kind: 'global'; readonly module: string; readonly name: string }
  /** `callable(*args)`, pickled as REDUCE; `items` (optional) are then added with SETITEMS. */
  | { readonly kind: 'call'; readonly callable: PyValue; readonly args: readonly PyValue[]; readonly items?: readonly (readonly [PyValue, PyValue])[] }
  /** An object the unpickler resolves through persistent_load(id). */
  | { readonly kind: 'persistent'; readonly id: PyValue };

export const py = {
  none: (): PyValue => ({ kind: 'none' }),
  bool: (value: boolean): PyValue => ({ kind: 'bool', value }),
  int: (value: number | bigint): PyValue => {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`pickle: ${value} is not an integer`);
    return { kind: 'int', value };
  },
  float: (value: number): PyValue => ({ kind: 'float', value }),
  str: (value: string): PyValue => ({ kind: 'str', value }),
  tuple: (...items: PyValue[]): PyValue => ({ kind: 'tuple', items }),
  global: (module: string, name: string): PyValue => ({ kind: 'global', module, name }),
  call: (callable: PyValue, args: readonly PyValue[], items?: readonly (readonly [PyValue, PyValue])[]): PyValue => ({ kind: 'call', callable, args, items }),
  persistent: (id: PyValue): PyValue => ({ kind: 'persistent', id }),
};

const OP = {
  PROTO: 0x80,
  STOP: 0x2e, // .
  MARK: 0x28, // (
  TUPLE: 0x74, // t
  EMPTY_TUPLE: 0x29, // )
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NONE: 0x4e, // N
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  LONG1: 0x8a,
  BINFLOAT: 0x47, // G
  BINUNICODE: 0x58, // X
  GLOBAL: 0x63, // c
  REDUCE: 0x52, // R
  BINPERSID: 0x51, // Q
  SETITEMS: 0x75, // u
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
} as const;

/** CPython's pickler batches SETITEMS by this many pairs. */
const BATCH = 1000;

class ByteSink {
  private buf = new Uint8Array(1024);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  u16(v: number): void {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
  }
  u32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setInt32(this.length, v, true);
    this.length += 4;
  }
  f64be(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.length, v, false);
    this.length += 8;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Two's-complement little-endian bytes of `v`, as short as possible (LONG1's payload). */
function longBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const b = Number(x & 0xffn);
    out.push(b);
    x >>= 8n;
    // Stop once the remaining value is pure sign extension of the last byte written.
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

/** Serialize `value` as a protocol-2 pickle (PROTO 2 ... STOP). */
export function pickle(value: PyValue): Uint8Array {
  const sink = new ByteSink();
  const memo = new Map<string, number>();
  const encoder = new TextEncoder();

  const put = (key: string): void => {
    const index = memo.size;
    memo.set(key, index);
    if (index < 256) {
      sink.byte(OP.BINPUT);
      sink.byte(index);
    } else {
      sink.byte(OP.LONG_BINPUT);
      sink.u32(index);
    }
  };
  /** Emit BINGET when `key` is memoized; returns whether it did. */
  const get = (key: string): boolean => {
    const index = memo.get(key);
    if (index === undefined) return false;
    if (index < 256) {
      sink.byte(OP.BINGET);
      sink.byte(index);
    } else {
      sink.byte(OP.LONG_BINGET);
      sink.u32(index);
    }
    return true;
  };

  const write = (v: PyValue): void => {
    switch (v.kind) {
      case 'none':
        sink.byte(OP.NONE);
        return;
      case 'bool':
        sink.byte(v.value ? OP.NEWTRUE : OP.NEWFALSE);
        return;
      case 'int': {
        const n = typeof v.value === 'bigint' ? v.value : BigInt(v.value);
        if (n >= 0n && n < 256n) {
          sink.byte(OP.BININT1);
          sink.byte(Number(n));
        } else if (n >= 0n && n < 65536n) {
          sink.byte(OP.BININT2);
          sink.u16(Number(n));
        } else if (n >= -(2n ** 31n) && n < 2n ** 31n) {
          sink.byte(OP.BININT);
          sink.i32(Number(n));
        } else {
          const b = longBytes(n);
          sink.byte(OP.LONG1);
          sink.byte(b.length);
          sink.bytes(b);
        }
        return;
      }
      case 'float':
        sink.byte(OP.BINFLOAT);
        sink.f64be(v.value);
        return;
      case 'str': {
        const key = `s:${v.value}`;
        if (get(key)) return;
        const b = encoder.encode(v.value);
        sink.byte(OP.BINUNICODE);
        sink.u32(b.length);
        sink.bytes(b);
        put(key);
        return;
      }
      case 'tuple': {
        const n = v.items.length;
        if (n === 0) {
          sink.byte(OP.EMPTY_TUPLE);
          return;
        }
        if (n <= 3) {
          v.items.forEach(write);
          sink.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : OP.TUPLE3);
          return;
        }
        sink.byte(OP.MARK);
        v.items.forEach(write);
        sink.byte(OP.TUPLE);
        return;
      }
      case 'global': {
        if (/[\n]/.test(v.module + v.name)) throw new Error(`pickle: invalid global name ${v.module}.${v.name}`);
        const key = `g:${v.module}\n${v.name}`;
        if (get(key)) return;
        sink.byte(OP.GLOBAL);
        sink.bytes(encoder.encode(`${v.module}\n${v.name}\n`));
        put(key);
        return;
      }
      case 'call': {
        write(v.callable);
        write({ kind: 'tuple', items: v.args });
        sink.byte(OP.REDUCE);
        const items = v.items ?? [];
        for (let i = 0; i < items.length; i += BATCH) {
          sink.byte(OP.MARK);
          for (const [k, val] of items.slice(i, i + BATCH)) {
            write(k);
            write(val);
          }
          sink.byte(OP.SETITEMS);
        }
        return;
      }
      case 'persistent':
        write(v.id);
        sink.byte(OP.BINPERSID);
        return;
    }
  };

  sink.byte(OP.PROTO);
  sink.byte(2);
  write(value);
  sink.byte(OP.STOP);
  return sink.result();
}

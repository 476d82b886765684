// Test-side tools for the PyTorch emitter, written independently of src/emit/torch: a ZIP reader that
// checks every header, CRC and the 64-byte data alignment; a small unpickler for what data.pkl holds;
// and a builder of synthetic BlazeFace graphs (front/back topology) with pseudo-random weights.
import { spawn } from 'node:child_process';
import type { Graph, Op, Tensor } from '../src/ir/graph.js';
import { TORCH_NAMING, tfliteWeightShape, type TorchArchitecture, type TorchLayer } from '../src/presets/torch-naming.js';
import { mulberry32 } from '../src/util/random.js';

// ---------- ZIP ----------

export interface ZipRecord {
  name: string;
  data: Uint8Array;
  dataOffset: number;
  localExtra: Uint8Array;
  crc: number;
  method: number;
  flags: number;
  dosDate: number;
  dosTime: number;
}

function crc32Ref(data: Uint8Array): number {
  // Bitwise (table-free) on purpose: a different implementation from the emitter's.
  let crc = ~0;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** Parse a ZIP via its central directory, cross-checking local headers; throws on any inconsistency. */
export function readZip(bytes: Uint8Array): ZipRecord[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  if (v.getUint32(eocd, true) !== 0x06054b50) throw new Error('no end-of-central-directory record at the end (comment present?)');
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  const cdOffset = v.getUint32(eocd + 16, true);
  if (cdOffset + cdSize !== eocd) throw new Error('central directory does not end at the EOCD');
  const dec = new TextDecoder();
  const out: ZipRecord[] = [];
  let p = cdOffset;
  let expectedLocal = 0;
  for (let i = 0; i < count; i++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new Error(`bad central header #${i}`);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const csize = v.getUint32(p + 20, true);
    const usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (local !== expectedLocal) throw new Error(`${name}: local header at ${local}, expected ${expectedLocal} (gap or overlap)`);
    if (v.getUint32(local, true) !== 0x04034b50) throw new Error(`${name}: bad local header signature`);
    const lNameLen = v.getUint16(local + 26, true);
    const lExtraLen = v.getUint16(local + 28, true);
    if (dec.decode(bytes.subarray(local + 30, local + 30 + lNameLen)) !== name) throw new Error(`${name}: local name differs`);
    if (v.getUint32(local + 14, true) !== crc || v.getUint32(local + 18, true) !== csize || v.getUint32(local + 22, true) !== usize) {
      throw new Error(`${name}: local header crc/sizes differ from the central directory`);
    }
    const dataOffset = local + 30 + lNameLen + lExtraLen;
    const data = bytes.subarray(dataOffset, dataOffset + csize);
    if (method !== 0 || csize !== usize) throw new Error(`${name}: not STORED`);
    if (crc32Ref(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    out.push({
      name,
      data,
      dataOffset,
      localExtra: bytes.subarray(local + 30 + lNameLen, dataOffset),
      crc,
      method,
      flags: v.getUint16(local + 6, true),
      dosTime: v.getUint16(local + 10, true),
      dosDate: v.getUint16(local + 12, true),
    });
    expectedLocal = dataOffset + csize;
  }
  if (expectedLocal !== cdOffset) throw new Error('bytes between the last record and the central directory');
  return out;
}

// ---------- pickle ----------

export type Unpickled =
  | null
  | boolean
  | number
  | bigint
  | string
  | Unpickled[]
  | Map<string, Unpickled>
  | { global: string }
  | { persistent: Unpickled }
  | { rebuildTensor: Unpickled[] }
  | { call: string; args: Unpickled[] };

const MARK = Symbol('mark');

/** Decode a protocol-2 pickle of the opcodes torch.save uses; unknown opcodes throw. */
export function unpickle(bytes: Uint8Array): Unpickled {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const stack: (Unpickled | typeof MARK)[] = [];
  const memo = new Map<number, Unpickled>();
  let p = 0;
  const popMark = (): Unpickled[] => {
    const items: Unpickled[] = [];
    for (;;) {
      const x = stack.pop();
      if (x === undefined) throw new Error('MARK not found');
      if (x === MARK) return items.reverse();
      items.push(x);
    }
  };
  const pop = (): Unpickled => {
    const x = stack.pop();
    if (x === undefined || x === MARK) throw new Error(`stack underflow at ${p}`);
    return x;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, p);
    const s = dec.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  for (;;) {
    const op = bytes[p++];
    switch (op) {
      case 0x80: // PROTO
        if (bytes[p++] !== 2) throw new Error('expected protocol 2');
        break;
      case 0x63: { // GLOBAL
        const mod = readLine();
        stack.push({ global: `${mod}.${readLine()}` });
        break;
      }
      case 0x71: memo.set(bytes[p++]!, stack[stack.length - 1] as Unpickled); break; // BINPUT
      case 0x72: memo.set(v.getUint32(p, true), stack[stack.length - 1] as Unpickled); p += 4; break; // LONG_BINPUT
      case 0x68: stack.push(memo.get(bytes[p++]!)!); break; // BINGET
      case 0x6a: stack.push(memo.get(v.getUint32(p, true))!); p += 4; break; // LONG_BINGET
      case 0x28: stack.push(MARK); break;
      case 0x29: stack.push([]); break;
      case 0x74: stack.push(popMark()); break;
      case 0x85: { const a = pop(); stack.push([a]); break; }
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; }
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(bytes[p++]!); break;
      case 0x4d: stack.push(v.getUint16(p, true)); p += 2; break;
      case 0x4a: stack.push(v.getInt32(p, true)); p += 4; break;
      case 0x8a: { // LONG1
        const n = bytes[p++]!;
        let x = 0n;
        for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[p + i]!);
        if (n > 0 && bytes[p + n - 1]! & 0x80) x -= 1n << BigInt(8 * n);
        p += n;
        stack.push(x);
        break;
      }
      case 0x47: stack.push(v.getFloat64(p, false)); p += 8; break;
      case 0x58: { const n = v.getUint32(p, true); p += 4; stack.push(dec.decode(bytes.subarray(p, p + n))); p += n; break; }
      case 0x51: stack.push({ persistent: pop() }); break; // BINPERSID
      case 0x52: { // REDUCE
        const args = pop() as Unpickled[];
        const fn = pop() as { global: string };
        if (fn.global === 'collections.OrderedDict') stack.push(new Map());
        else if (fn.global === 'torch._utils._rebuild_tensor_v2') stack.push({ rebuildTensor: args });
        else stack.push({ call: fn.global, args });
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const target = stack[stack.length - 1];
        if (!(target instanceof Map)) throw new Error('SETITEMS on a non-dict');
        for (let i = 0; i < items.length; i += 2) target.set(items[i] as string, items[i + 1]!);
        break;
      }
      case 0x2e: // STOP
        if (stack.length !== 1) throw new Error(`STOP with ${stack.length} items on the stack`);
        return pop();
      default:
        throw new Error(`unsupported opcode 0x${(op ?? 0).toString(16)} at ${p - 1}`);
    }
  }
}

// ---------- synthetic graphs ----------

/** Omit distributed over the Op union (plain Omit collapses it to the common fields). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type OpWithoutIndex = DistributiveOmit<Op, 'index'>;

/** Deterministic pseudo-random floats (mulberry32) in [-0.5, 0.5). */
export function randomFloats(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => next() - 0.5);
}

/**
 * A complete BlazeFace graph with the topology the seed's module has (stem, BlazeBlocks with max-pooled and
 * channel-padded skips, the back model's final block, four heads reshaped and concatenated), built from the
 * naming table's rows.
 */
export function syntheticGraph(arch: TorchArchitecture, seed = 1): Graph {
  const naming = TORCH_NAMING[arch];
  const S = naming.inputSize;
  const tensors: Tensor[] = [];
  const ops: Op[] = [];
  const tensor = (name: string, shape: number[], data?: Float32Array): number => {
    tensors.push({ index: tensors.length, name, shape, dtype: 'float32', sourceDtype: 'float32', buffer: data ? tensors.length + 1 : 0, data });
    return tensors.length - 1;
  };
  let seedCounter = seed * 1000;
  const push = (op: OpWithoutIndex): void => {
    ops.push({ ...op, index: ops.length } as Op);
  };
  const convOp = (layer: TorchLayer, x: number, xShape: number[]): { out: number; shape: number[] } => {
    const w = tensor(`${layer.module}/Kernel`, tfliteWeightShape(layer), randomFloats(tfliteWeightShape(layer).reduce((a, b) => a * b, 1), seedCounter++));
    const b = tensor(`${layer.module}/Bias`, [layer.outChannels], randomFloats(layer.outChannels, seedCounter++));
    const h = Math.ceil(xShape[1]! / layer.stride);
    const shape = [1, h, h, layer.outChannels];
    const out = tensor(layer.module, shape);
    const common = { inputs: [x, w, b], outputs: [out], strideH: layer.stride, strideW: layer.stride, dilationH: 1, dilationW: 1, activation: 'NONE' as const };
    if (layer.kind === 'depthwise') push({ type: 'DEPTHWISE_CONV_2D', padding: 'SAME', depthMultiplier: 1, ...common });
    else push({ type: 'CONV_2D', padding: layer.kernel === 1 ? 'VALID' : 'SAME', ...common });
    return { out, shape };
  };
  const relu = (x: number, shape: number[], name: string): number => {
    const out = tensor(name, shape);
    push({ type: 'RELU', inputs: [x], outputs: [out] });
    return out;
  };

  const input = tensor('input', [1, S, S, 3]);
  const body = naming.layers.filter((l) => !l.head);
  const heads = naming.layers.filter((l) => l.head);
  let x = input;
  let xShape = [1, S, S, 3];
  const bySize = new Map<number, number>();
  const stem = convOp(body[0]!, x, xShape);
  x = relu(stem.out, stem.shape, 'stem/relu');
  xShape = stem.shape;
  for (let i = 1; i < body.length; i += 2) {
    const dw = body[i]!;
    const pw = body[i + 1]!;
    const a = convOp(dw, x, xShape);
    const b = convOp(pw, a.out, a.shape);
    let out: number;
    if (dw.module.startsWith('final')) {
      out = relu(b.out, b.shape, `${pw.module}/relu`);
    } else {
      let skip = x;
      let skipShape = xShape;
      if (dw.stride === 2) {
        skipShape = [1, a.shape[1]!, a.shape[2]!, xShape[3]!];
        const pooled = tensor(`${dw.module}/pool`, skipShape);
        push({ type: 'MAX_POOL_2D', inputs: [skip], outputs: [pooled], padding: 'VALID', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE' });
        skip = pooled;
      }
      if (pw.outChannels > pw.inChannels) {
        const padded = tensor(`${dw.module}/channel_pad`, b.shape);
        push({ type: 'PAD', inputs: [skip], outputs: [padded], paddings: [[0, 0], [0, 0], [0, 0], [0, pw.outChannels - pw.inChannels]] });
        skip = padded;
      }
      const sum = tensor(`${dw.module}/add`, b.shape);
      push({ type: 'ADD', inputs: [skip, b.out], outputs: [sum], activation: 'NONE' });
      out = relu(sum, b.shape, `${dw.module}/relu`);
    }
    x = out;
    xShape = b.shape;
    bySize.set(xShape[1]!, x);
  }
  const headOut = heads.map((layer) => {
    const src = bySize.get(layer.head!.concatIndex === 0 ? S / 8 : S / 16)!;
    const srcShape = tensors[src]!.shape as number[];
    return { layer, ...convOp(layer, src, srcShape) };
  });
  const reshaped = headOut.map(({ layer, out, shape }) => {
    const k = layer.head!.output === 'regressors' ? 16 : 1;
    const rs = tensor(`${layer.module}/reshape`, [1, (shape[1]! * shape[2]! * shape[3]!) / k, k]);
    push({ type: 'RESHAPE', inputs: [out], outputs: [rs], newShape: [1, -1, k] });
    return { layer, rs };
  });
  const outputs: number[] = [];
  for (const name of ['regressors', 'classificators'] as const) {
    const parts = reshaped.filter((r) => r.layer.head!.output === name).sort((a, b) => a.layer.head!.concatIndex - b.layer.head!.concatIndex);
    const k = name === 'regressors' ? 16 : 1;
    const total = parts.reduce((s, r) => s + tensors[r.rs]!.shape[1]!, 0);
    const out = tensor(name, [1, total, k]);
    push({ type: 'CONCATENATION', inputs: parts.map((r) => r.rs), outputs: [out], axis: 1, activation: 'NONE' });
    outputs.push(out);
  }
  return {
    source: { fileName: `synthetic_${arch}.tflite`, sha256: '0'.repeat(64), byteLength: 0 },
    description: 'synthetic',
    schemaVersion: 3,
    tensors,
    ops,
    foldedOps: [],
    inputs: [input],
    outputs,
  };
}

// ---------- python ----------

export function runPython(python: string, args: string[], stdin?: Uint8Array): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

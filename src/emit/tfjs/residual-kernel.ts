// One tfjs kernel for the BlazeBlock tail on tfjs-backend-wasm: out = relu(conv + skip), the skip's
// missing trailing channels counted as zeros (what the graph spells Pad(channels) + AddV2 + Relu, three
// kernels and two intermediate tensors). tfjs has no fused add + activation; XNNPACK, which the TFLite
// runtime uses, clamps inside its Add. Measured on short_range, tfjs-wasm spent about 4x TFLite's time
// in these three ops. The loop is a few dozen WebAssembly SIMD instructions assembled below (no binary
// is shipped) and instantiated on the wasm backend's own memory, so it reads and writes tfjs tensors in
// place. Only the non-threaded wasm build (an unshared memory, always the case under Node) gets it.
import type * as TfCore from '@tensorflow/tfjs-core';

export const RESIDUAL_RELU_KERNEL = 'BlazefaceToolkitResidualRelu';

type Tf = Pick<typeof TfCore, 'getKernel' | 'registerKernel'>;

/** The wasm backend members this kernel uses (public fields of BackendWasm). */
interface WasmBackendLike {
  wasm?: { asm?: { memory?: unknown } };
  makeOutput(shape: number[], dtype: 'float32'): TfCore.TensorInfo;
  typedArrayFromHeap(t: TfCore.TensorInfo): Float32Array;
}

// ---- a minimal WebAssembly encoder for the one function below ----
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32eqz: [0x45],
  i32geU: [0x4f],
  i32gtU: [0x4b],
  i32add: [0x6a],
  i32sub: [0x6b],
  f32load: [0x2a, 2, 0], // align 2^2, offset 0
  f32store: [0x38, 2, 0],
  f32zero: [0x43, 0, 0, 0, 0],
  f32add: [0x92],
  f32max: [0x97],
  v128load: [0xfd, ...uleb(0x00), 0, 0], // byte alignment: rows of 28 or 42 floats are not 16-byte aligned
  v128store: [0xfd, ...uleb(0x0b), 0, 0],
  v128zero: [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  f32x4add: [0xfd, ...uleb(0xe4)],
  f32x4max: [0xfd, ...uleb(0xe9)],
};

// Parameters (byte addresses and counts): 0 conv, 1 skip, 2 out, 3 pixels, 4 skip row bytes, 5 conv row bytes; local 6 = c.
const [CONV, SKIP, OUT, PIXELS, SKIP_ROW, ROW, C] = [0, 1, 2, 3, 4, 5, 6];

/** while (c + step <= limit) { out[c] = max(conv[c] (+ skip[c]), 0); c += step } with 16-byte SIMD or scalar steps. */
function rowLoop(simd: boolean, withSkip: boolean, limit: number): number[] {
  const step = simd ? 16 : 4;
  const at = (base: number) => [...op.get(base), ...op.get(C), ...op.i32add];
  const load = simd ? op.v128load : op.f32load;
  return [
    ...op.block,
    ...op.loop,
    ...(simd ? [...op.get(C), ...op.i32(16), ...op.i32add, ...op.get(limit), ...op.i32gtU] : [...op.get(C), ...op.get(limit), ...op.i32geU]),
    ...op.brIf(1),
    ...at(OUT),
    ...at(CONV),
    ...load,
    ...(withSkip ? [...at(SKIP), ...load, ...(simd ? op.f32x4add : op.f32add)] : []),
    ...(simd ? [...op.v128zero, ...op.f32x4max, ...op.v128store] : [...op.f32zero, ...op.f32max, ...op.f32store]),
    ...op.get(C),
    ...op.i32(step),
    ...op.i32add,
    ...op.set(C),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const advance = (ptr: number, by: number) => [...op.get(ptr), ...op.get(by), ...op.i32add, ...op.set(ptr)];
  const body = [
    ...vec([[...uleb(1), 0x7f]]), // one i32 local
    ...op.block,
    ...op.get(PIXELS),
    ...op.i32eqz,
    ...op.brIf(0),
    ...op.loop,
    ...op.i32(0),
    ...op.set(C),
    ...rowLoop(true, true, SKIP_ROW),
    ...rowLoop(false, true, SKIP_ROW),
    ...rowLoop(true, false, ROW),
    ...rowLoop(false, false, ROW),
    ...advance(CONV, ROW),
    ...advance(OUT, ROW),
    ...advance(SKIP, SKIP_ROW),
    ...op.get(PIXELS),
    ...op.i32(1),
    ...op.i32sub,
    ...op.tee(PIXELS),
    ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec(new Array(6).fill([0x7f])), 0]])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x00]])), // unshared memory, min 0 pages
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str('residual_relu'), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

type ResidualFn = (conv: number, skip: number, out: number, pixels: number, skipRow: number, row: number) => void;
const instances = new WeakMap<object, ResidualFn | null>();

/** The kernel's wasm function on this backend's memory; null when the memory is not reachable or shared. */
function residualFn(backend: WasmBackendLike): ResidualFn | null {
  if (instances.has(backend)) return instances.get(backend)!;
  let fn: ResidualFn | null = null;
  const memory = backend.wasm?.asm?.memory;
  if (typeof WebAssembly === 'object' && memory instanceof WebAssembly.Memory && !(typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer)) {
    const bytes = moduleBytes();
    if (WebAssembly.validate(bytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      fn = instance.exports.residual_relu as ResidualFn;
    }
  }
  instances.set(backend, fn);
  return fn;
}

function residualRelu(args: { inputs: TfCore.NamedTensorInfoMap; backend: unknown }): TfCore.TensorInfo {
  const { conv, skip } = args.inputs as { conv: TfCore.TensorInfo; skip: TfCore.TensorInfo };
  const backend = args.backend as WasmBackendLike;
  const fn = residualFn(backend);
  if (!fn) throw new Error(`${RESIDUAL_RELU_KERNEL}: the wasm backend's memory is not reachable (or is shared)`);
  const [c, s] = [conv.shape, skip.shape];
  const rank = c.length;
  if (rank < 1 || s.length !== rank || c.slice(0, -1).some((d, i) => d !== s[i]) || s[rank - 1]! > c[rank - 1]! || conv.dtype !== 'float32' || skip.dtype !== 'float32') {
    throw new Error(`${RESIDUAL_RELU_KERNEL}: skip [${s.join(',')}] does not fit conv [${c.join(',')}] (same leading dims, no more channels, float32)`);
  }
  const out = backend.makeOutput([...c], 'float32');
  // Addresses after makeOutput: its malloc may grow (and so re-buffer) the heap.
  const [cv, sk, o] = [backend.typedArrayFromHeap(conv), backend.typedArrayFromHeap(skip), backend.typedArrayFromHeap(out)];
  const channels = c[rank - 1]!;
  const pixels = channels === 0 ? 0 : cv.length / channels;
  fn(cv.byteOffset, sk.byteOffset, o.byteOffset, pixels, s[rank - 1]! * 4, channels * 4);
  return out;
}

/** Register the kernel for tfjs-backend-wasm once; true when it is registered (by this or an earlier call). */
export function registerResidualReluKernel(tf: Tf): boolean {
  if (!tf.getKernel(RESIDUAL_RELU_KERNEL, 'wasm')) {
    tf.registerKernel({ kernelName: RESIDUAL_RELU_KERNEL, backendName: 'wasm', kernelFunc: residualRelu as unknown as TfCore.KernelFunc });
  }
  return true;
}

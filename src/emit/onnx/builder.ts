// The ONNX graph under construction: unique names, nodes, initializers, and the one place that knows
// about layouts. The IR is NHWC; the ONNX graph is NCHW-native. Every IR tensor may exist as up to two
// ONNX values: its TFLite layout ('tflite': NHWC for 4-D) and, for 4-D tensors, 'nchw'. A consumer asks
// for the layout it needs and gets a Transpose inserted (once) when only the other one exists; this is
// tflite2onnx's layout propagation, kept out of the per-op lowerings.
import { ToolkitError } from '../../errors.js';
import type { Graph, Tensor } from '../../ir/graph.js';
import type { ChannelWidths } from './widths.js';
import { OnnxAttributeType, OnnxDataType, type AttributeProto, type NodeProto, type TensorProto } from './proto.js';

export type Layout = 'tflite' | 'nchw';

/** NHWC -> NCHW and back, as Transpose perms. */
export const PERM_NHWC_TO_NCHW = [0, 3, 1, 2] as const;
export const PERM_NCHW_TO_NHWC = [0, 2, 3, 1] as const;

/** Map an NHWC axis (0..3) to its NCHW position. */
export function nhwcAxisToNchw(axis: number): number {
  return PERM_NCHW_TO_NHWC[axis]!;
}

export type AttrValue = number | string | readonly number[] | { readonly float: number } | { readonly floats: readonly number[] };

/** Raised when the IR describes something this ONNX emitter cannot express. */
export class OnnxEmitError extends ToolkitError {
  constructor(message: string, file?: string) {
    super('ONNX_EMIT', message, { file });
  }
}

function float32Bytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  // Explicit little-endian: ONNX raw_data is LE regardless of the host.
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new OnnxEmitError(`attribute ${name}: integer expected, got ${value}`);
    return { name, type: OnnxAttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: OnnxAttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: OnnxAttributeType.FLOATS, floats: [...value.floats] };
  return { name, type: OnnxAttributeType.INTS, ints: [...value] };
}

export class OnnxGraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  /** tensor index -> layout -> ONNX value name. */
  private readonly values = new Map<number, Map<Layout, string>>();
  /** Reserved names of the graph's own inputs and outputs, per tensor (their 'tflite' value). */
  private readonly ioNames = new Map<number, string>();
  /** Cache of derived constants, keyed by what they are (e.g. 'clip:0', 'conv-kernel:12'). */
  private readonly constCache = new Map<string, string>();

  /** Channel widths carried by widened 4-D activations (see ./widths.ts); empty = every tensor exact. */
  widths: ChannelWidths = new Map();

  constructor(readonly graph: Graph) {}

  /** Channels tensor `index` carries in this graph: its planned width, else its own channel count. */
  channels(index: number): number {
    const t = this.tensor(index);
    return this.widths.get(index) ?? t.shape[t.shape.length - 1]!;
  }

  get file(): string {
    return this.graph.source.fileName;
  }

  tensor(index: number): Tensor {
    const t = this.graph.tensors[index];
    if (!t) throw new OnnxEmitError(`${this.file}: tensor #${index} does not exist`, this.file);
    return t;
  }

  /** Claim a unique value/node name: the hint itself, else hint_2, hint_3, ... (deterministic in emission order). */
  claim(hint: string): string {
    let name = hint;
    for (let k = 2; this.used.has(name); k++) name = `${hint}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Give a graph input or output its public name (must be called before anything else claims it). */
  reserveIoName(tensorIndex: number, name: string): void {
    if (this.used.has(name)) throw new OnnxEmitError(`${this.file}: graph I/O name '${name}' used twice`, this.file);
    this.used.add(name);
    this.ioNames.set(tensorIndex, name);
  }

  private baseName(index: number): string {
    const t = this.tensor(index);
    return t.name.length > 0 ? t.name : `tensor_${index}`;
  }

  /** Layout a 4-D activation naturally takes in this graph; other ranks only exist in TFLite layout. */
  static layoutFor(rank: number, preferNchw: boolean): Layout {
    return rank === 4 && preferNchw ? 'nchw' : 'tflite';
  }

  has(index: number, layout: Layout): boolean {
    return this.values.get(index)?.has(layout) ?? false;
  }

  /** Layouts in which tensor `index` has been produced so far. */
  layoutsOf(index: number): Layout[] {
    return [...(this.values.get(index)?.keys() ?? [])];
  }

  /**
   * Declare that the current op produces tensor `index` in `layout`; returns the ONNX name to write to.
   * Graph outputs in TFLite layout get their public name.
   */
  define(index: number, layout: Layout): string {
    const t = this.tensor(index);
    if (layout === 'nchw' && t.shape.length !== 4) {
      throw new OnnxEmitError(`${this.file}: tensor #${index} '${t.name}' has rank ${t.shape.length}; NCHW needs rank 4`, this.file);
    }
    let byLayout = this.values.get(index);
    if (!byLayout) this.values.set(index, (byLayout = new Map()));
    if (byLayout.has(layout)) throw new OnnxEmitError(`${this.file}: tensor #${index} '${t.name}' produced twice`, this.file);
    const io = this.ioNames.get(index);
    let name: string;
    if (io !== undefined) name = layout === 'tflite' ? io : this.claim(`${io}/nchw`);
    else name = this.claim(layout === 'nchw' || t.shape.length !== 4 ? this.baseName(index) : `${this.baseName(index)}/nhwc`);
    byLayout.set(layout, name);
    return name;
  }

  /**
   * Declare that tensor `index` in `layout` is the existing ONNX value `name` (an op that needs no node,
   * e.g. a channel PAD whose zero channels the input already carries). Graph outputs cannot be aliases.
   */
  alias(index: number, layout: Layout, name: string): void {
    const t = this.tensor(index);
    if (this.ioNames.has(index)) throw new OnnxEmitError(`${this.file}: graph I/O tensor #${index} '${t.name}' cannot alias another value`, this.file);
    let byLayout = this.values.get(index);
    if (!byLayout) this.values.set(index, (byLayout = new Map()));
    if (byLayout.has(layout)) throw new OnnxEmitError(`${this.file}: tensor #${index} '${t.name}' produced twice`, this.file);
    byLayout.set(layout, name);
  }

  /**
   * The ONNX value holding tensor `index` in `layout`. Constants become initializers (transposed for
   * NCHW); activations produced in the other layout get one Transpose, reused by every later consumer.
   */
  value(index: number, layout: Layout): string {
    const existing = this.values.get(index)?.get(layout);
    if (existing !== undefined) return existing;
    const t = this.tensor(index);
    if (layout === 'nchw' && t.shape.length !== 4) {
      throw new OnnxEmitError(`${this.file}: tensor #${index} '${t.name}' has rank ${t.shape.length}; NCHW needs rank 4`, this.file);
    }
    if (t.data) {
      if (!(t.data instanceof Float32Array)) {
        throw new OnnxEmitError(`${this.file}: constant tensor #${index} '${t.name}' is ${t.dtype}; only float32 constants can be data operands`, this.file);
      }
      const name = this.define(index, layout);
      if (layout === 'nchw') {
        this.addFloatInitializer(name, [t.shape[0]!, t.shape[3]!, t.shape[1]!, t.shape[2]!], transposeData(t.data, t.shape, PERM_NHWC_TO_NCHW));
      } else {
        this.addFloatInitializer(name, [...t.shape], t.data);
      }
      return name;
    }
    if (this.widths.has(index)) {
      // Widened channels only exist inside the NCHW body; a TFLite-layout consumer needs the exact count.
      throw new OnnxEmitError(`${this.file}: tensor #${index} '${t.name}' carries ${this.widths.get(index)} channels for ${t.shape[3]}; it has no ${layout} form`, this.file);
    }
    const other: Layout = layout === 'nchw' ? 'tflite' : 'nchw';
    const source = this.values.get(index)?.get(other);
    if (source === undefined) {
      throw new OnnxEmitError(`${this.file}: tensor #${index} '${t.name}' is used before it is produced`, this.file);
    }
    const name = this.define(index, layout);
    this.node('Transpose', [source], [name], { perm: layout === 'nchw' ? PERM_NHWC_TO_NCHW : PERM_NCHW_TO_NHWC }, `${this.baseName(index)}/to_${layout}`);
    return name;
  }

  /** A fresh intermediate value name (e.g. a conv's output before its fused activation). */
  temp(hint: string): string {
    return this.claim(hint);
  }

  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}, nameHint?: string): void {
    // Attributes sorted by name: the bytes do not depend on the order a lowering lists them.
    const attrList = Object.keys(attrs)
      .sort()
      .map((k) => attribute(k, attrs[k]!));
    this.nodes.push({ name: this.claim(nameHint ?? `${opType}_${this.nodes.length}`), op_type: opType, input: [...inputs], output: [...outputs], attribute: attrList });
  }

  addFloatInitializer(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) throw new OnnxEmitError(`${this.file}: initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`, this.file);
    this.initializers.push({ name, dims: [...dims], data_type: OnnxDataType.FLOAT, raw_data: float32Bytes(data) });
    return name;
  }

  addInt64Initializer(name: string, dims: readonly number[], values: readonly number[]): string {
    this.initializers.push({ name, dims: [...dims], data_type: OnnxDataType.INT64, raw_data: int64Bytes(values) });
    return name;
  }

  /** A derived constant, created once per key: `make(name)` is called with a fresh name the first time. */
  constant(key: string, hint: string, make: (name: string) => void): string {
    const cached = this.constCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.claim(hint);
    make(name);
    this.constCache.set(key, name);
    return name;
  }
}

/** Permute a row-major array of `shape` by `perm` (output dim k = input dim perm[k]). */
export function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d]!;
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k]! * inStrides[perm[k]!]!;
    out[o] = data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

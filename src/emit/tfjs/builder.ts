// Accumulates the tfjs GraphDef nodes and their constant weights while the lowering table walks the
// IR in execution order. Names are derived from IR indices only, so output is deterministic.
import { ToolkitError } from '../../errors.js';
import type { Graph, Tensor } from '../../ir/graph.js';
import type { PadFold } from '../onnx/lowerings.js';
import { attr, type AttrValue, type NodeDef, type TfDataType } from './graph-def.js';

/** A Const node's payload, stored in the weights shards in the order the nodes were created. */
export interface ConstWeight {
  readonly name: string;
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
  /** The IR tensor the values came from (absent for shape/padding operands made by a lowering). */
  readonly irTensor?: number;
}

export class TfjsGraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly weights: ConstWeight[] = [];
  private readonly names = new Set<string>();
  /** IR tensor index -> name of the node whose output 0 holds it. */
  private readonly values = new Map<number, string>();
  /** Cache key (tensor index + layout) -> Const node name, so a weight used twice is stored once. */
  private readonly constCache = new Map<string, string>();

  /** conv op index -> the zero spatial PAD folded into its explicit padding (set by the emitter). */
  padFolds: ReadonlyMap<number, PadFold> = new Map();
  /** conv op index -> the standalone RELU op folded into its fused ops (set by the emitter). */
  reluFolds: ReadonlyMap<number, number> = new Map();

  constructor(readonly graph: Graph) {}

  /**
   * Rename node `from` to `to`, and every reference to it: lets a graph output be the node that computes
   * it instead of an extra Identity node after it.
   */
  rename(from: string, to: string): void {
    if (this.names.has(to)) throw new ToolkitError('TFJS_EMIT', `duplicate tfjs node name '${to}'`);
    const i = this.nodes.findIndex((n) => n.name === from);
    if (i < 0) throw new ToolkitError('TFJS_EMIT', `no tfjs node named '${from}'`);
    this.names.delete(from);
    this.names.add(to);
    const ref = (r: string): string => (r === from ? to : r.startsWith(`${from}:`) ? `${to}${r.slice(from.length)}` : r);
    for (let k = 0; k < this.nodes.length; k++) {
      const n = this.nodes[k]!;
      this.nodes[k] = { ...n, ...(k === i ? { name: to } : {}), ...(n.input ? { input: n.input.map(ref) } : {}) };
    }
    for (const [t, name] of this.values) if (name === from) this.values.set(t, to);
  }

  /** True when the node is a Const or the Placeholder (graph outputs then need an Identity). */
  isSourceNode(name: string): boolean {
    const n = this.nodes.find((x) => x.name === name);
    return !n || n.op === 'Const' || n.op === 'Placeholder';
  }

  tensor(index: number): Tensor {
    const t = this.graph.tensors[index];
    if (!t) throw new ToolkitError('TFJS_EMIT', `${this.graph.source.fileName}: tensor #${index} does not exist`, { file: this.graph.source.fileName });
    return t;
  }

  node(name: string, op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    if (this.names.has(name)) throw new ToolkitError('TFJS_EMIT', `duplicate tfjs node name '${name}'`);
    this.names.add(name);
    const node: NodeDef = { name, op, ...(inputs.length ? { input: [...inputs] } : {}), ...(Object.keys(attrs).length ? { attr: attrs } : {}) };
    this.nodes.push(node);
    return name;
  }

  constant(name: string, dtype: 'float32' | 'int32', shape: readonly number[], data: Float32Array | Int32Array, irTensor?: number): string {
    const tfType: TfDataType = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new ToolkitError('TFJS_EMIT', `constant '${name}': shape [${shape.join(',')}] holds ${count} values, data has ${data.length}`);
    }
    this.node(name, 'Const', [], { value: attr.tensor(tfType, shape), dtype: attr.type(tfType) });
    this.weights.push({ name, dtype, shape: [...shape], data, ...(irTensor === undefined ? {} : { irTensor }) });
    return name;
  }

  int32(name: string, shape: readonly number[], values: readonly number[]): string {
    return this.constant(name, 'int32', shape, Int32Array.from(values));
  }

  /** A constant IR tensor stored under `layout` (e.g. 'hwio'), transformed once by `make`. */
  irConstant(index: number, layout: string, make: (t: Tensor) => { shape: readonly number[]; data: Float32Array | Int32Array }): string {
    const key = `${index}/${layout}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const t = this.tensor(index);
    if (!t.data) {
      throw new ToolkitError('TFJS_EMIT', `${this.graph.source.fileName}: tensor #${index} '${t.name}' is expected to be a constant but has no data`, {
        file: this.graph.source.fileName,
      });
    }
    const { shape, data } = make(t);
    const name = this.constant(layout === 'as-is' ? `t${index}` : `t${index}/${layout}`, data instanceof Int32Array ? 'int32' : 'float32', shape, data, index);
    this.constCache.set(key, name);
    return name;
  }

  bind(tensorIndex: number, nodeName: string): void {
    this.values.set(tensorIndex, nodeName);
  }

  /** The node holding IR tensor `index`: a produced activation, or the constant itself in its IR layout. */
  value(index: number): string {
    const produced = this.values.get(index);
    if (produced) return produced;
    const t = this.tensor(index);
    if (t.data) return this.irConstant(index, 'as-is', (c) => ({ shape: c.shape, data: c.data! }));
    throw new ToolkitError('TFJS_EMIT', `${this.graph.source.fileName}: tensor #${index} '${t.name}' is used before any op produces it`, {
      file: this.graph.source.fileName,
    });
  }
}

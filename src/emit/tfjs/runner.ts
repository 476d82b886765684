// A lean executor for the graph-models ./emit.ts writes: the nodes of model.json become one fixed list of
// tfjs kernel calls (tf.engine().runKernel) in topological order, made once at load. tfjs-converter's
// GraphModel.execute re-derives the same work on every call (input/output name parsing, per-node op
// mapper lookups, attribute decoding, tensor-map bookkeeping and reference counting), which on the wasm
// backend cost about a third as much again as the kernels themselves for short_range. Every intermediate
// is disposed right after its last use. Platform-free: Node and browser backends share it, each passing
// its own tfjs-core module. model.json stays a standard graph-model; a graph with a node this plan does
// not know is left to GraphModel.execute (planTfjsGraph says why).
import type * as TfCore from '@tensorflow/tfjs-core';
import type { ImageBatch, RawOutputs } from '../../backends/backend.js';
import { BackendError } from '../../errors.js';
import { checkOutputShapes } from '../../ir/batch.js';
import { registerResidualReluKernel, RESIDUAL_RELU_KERNEL } from './residual-kernel.js';

// A structural type lets each platform pass its own import of tfjs-core.
type Tf = Pick<typeof TfCore, 'engine' | 'getKernel' | 'registerKernel'>;
type Tensor = TfCore.Tensor;

export interface TfjsNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, unknown>>;
}

export interface TfjsPlan {
  /** Run the graph on `x` (not disposed); returns the output tensors in the planned order (the caller disposes them). */
  execute(x: Tensor): Tensor[];
  /** Kernel calls per run. */
  readonly kernels: number;
  /** How many of them are the fused residual kernel. */
  readonly residualKernels: number;
  /** True when the kernels are called directly, bypassing tf.engine().runKernel (and so tf.profile). */
  readonly direct: boolean;
}

interface Step {
  readonly kernel: string;
  /** Slot of each input tensor, keyed as the kernel expects (an array for Concat). */
  readonly inputs: Readonly<Record<string, number>> | readonly number[];
  readonly attrs: Record<string, unknown>;
  readonly out: number;
  /** Slots whose last reader is this step: disposed right after it. */
  readonly frees: readonly number[];
}

class Unsupported extends Error {}

function decodeString(b64: string): string {
  // atob exists in Node >= 16 and every browser; the strings are ASCII attribute values.
  return atob(b64);
}

/** Attribute readers over the protobuf-JSON encoding (int64 as strings, strings as base64). */
function attrs(node: TfjsNode) {
  const a = (node.attr ?? {}) as Record<string, { s?: string; i?: string; b?: boolean; f?: number; list?: { i?: string[]; s?: string[] } }>;
  const need = <T>(key: string, v: T | undefined): T => {
    if (v === undefined) throw new Unsupported(`node '${node.name}' (${node.op}) has no attribute ${key}`);
    return v;
  };
  return {
    has: (key: string) => a[key] !== undefined,
    str: (key: string) => decodeString(need(key, a[key]?.s)),
    int: (key: string) => Number(need(key, a[key]?.i)),
    bool: (key: string, dflt: boolean) => a[key]?.b ?? dflt,
    ints: (key: string) => need(key, a[key]?.list?.i).map(Number),
    strs: (key: string) => (a[key]?.list?.s ?? []).map(decodeString),
  };
}

type ConvPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

function convPadding(at: ReturnType<typeof attrs>, node: TfjsNode): ConvPad {
  const padding = at.str('padding');
  if (padding === 'SAME' || padding === 'VALID') return padding === 'SAME' ? 'same' : 'valid';
  if (padding !== 'EXPLICIT') throw new Unsupported(`node '${node.name}' has padding ${padding}`);
  const p = at.ints('explicit_paddings');
  if (p.length !== 8) throw new Unsupported(`node '${node.name}' has ${p.length} explicit paddings, expected 8`);
  return [
    [p[0]!, p[1]!],
    [p[2]!, p[3]!],
    [p[4]!, p[5]!],
    [p[6]!, p[7]!],
  ];
}

/** NHWC [1, a, b, 1] attribute -> [a, b]. */
function spatial(at: ReturnType<typeof attrs>, key: string, node: TfjsNode): [number, number] {
  const v = at.ints(key);
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw new Unsupported(`node '${node.name}' has ${key} [${v.join(',')}]`);
  return [v[1]!, v[2]!];
}

function nhwc(at: ReturnType<typeof attrs>, node: TfjsNode): void {
  if (at.has('data_format') && at.str('data_format') !== 'NHWC') throw new Unsupported(`node '${node.name}' is not NHWC`);
}

const ACTIVATIONS: Record<string, string> = { Relu: 'relu', Relu6: 'relu6' };
const UNARY: Record<string, string> = { Relu: 'Relu', Relu6: 'Relu6', Tanh: 'Tanh', Sigmoid: 'Sigmoid' };

/**
 * Plan `topology` (model.json's modelTopology) over the weights a GraphModel loaded, from `inputName` to
 * `outputNames`. Returns the plan, or why the graph is outside what it handles.
 */
export function planTfjsGraph(
  tf: Tf,
  topology: { readonly node?: readonly TfjsNode[] } | undefined,
  weights: Readonly<Record<string, readonly Tensor[]>>,
  inputName: string,
  outputNames: readonly string[],
  options: PlanOptions = {},
): TfjsPlan | { readonly unsupported: string } {
  try {
    return buildPlan(tf, topology?.node ?? [], weights, inputName, outputNames, options);
  } catch (err) {
    if (err instanceof Unsupported) return { unsupported: err.message };
    throw err;
  }
}

export interface PlanOptions {
  /**
   * Run each Relu(AddV2(conv, Pad-on-channels(skip) or skip)) as one residual kernel (./residual-kernel.ts)
   * when the active backend has it (tfjs-wasm). The Pad and AddV2 must feed nothing else.
   */
  readonly fuseResiduals?: boolean;
  /**
   * Call each kernel's own function (tf.getKernel(name, backend).kernelFunc) on TensorInfos instead of
   * tf.engine().runKernel: no engine bookkeeping per kernel (Tensor objects, tracking, profiler hooks),
   * only the outputs become tensors. tf.profile then sees no kernels.
   */
  readonly direct?: boolean;
}

/** Channel-only zero padding [[0,0],...,[0,k]] of a Pad/PadV2 node, read from its constant operands. */
function isChannelAppendPad(node: TfjsNode, intValues: (name: string) => number[], scalar: (ref: string) => number | undefined): boolean {
  if ((node.op !== 'Pad' && node.op !== 'PadV2') || !node.input || node.input.length < 2) return false;
  if (node.op === 'PadV2' && scalar(node.input[2]!) !== 0) return false;
  let p: number[];
  try {
    p = intValues(node.input[1]!.replace(/:0$/, ''));
  } catch {
    return false;
  }
  return p.length >= 2 && p.slice(0, -1).every((v) => v === 0) && p[p.length - 1]! >= 0;
}

function buildPlan(tf: Tf, nodes: readonly TfjsNode[], weights: Readonly<Record<string, readonly Tensor[]>>, inputName: string, outputNames: readonly string[], options: PlanOptions): TfjsPlan {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const slotOf = new Map<string, number>(); // node name -> slot of its output 0
  const constants: Tensor[] = []; // slot -> constant tensor (owned by the GraphModel)
  const steps: Step[] = [];
  let slots = 1; // slot 0 is the input
  const intValues = (name: string): number[] => {
    const t = weights[name]?.[0];
    if (!t || t.dtype !== 'int32') throw new Unsupported(`'${name}' is not an int32 constant`);
    return Array.from(t.dataSync());
  };

  // Depth-first from the outputs: only what they need, producers before consumers.
  const state = new Map<string, 'visiting' | 'done'>();
  const order: TfjsNode[] = [];
  const visit = (ref: string): void => {
    const name = ref.replace(/:0$/, '');
    if (name.includes(':') || name.startsWith('^')) throw new Unsupported(`input '${ref}' is not output 0 of a node`);
    const node = byName.get(name);
    if (!node) throw new Unsupported(`no node named '${name}'`);
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Unsupported(`the graph has a cycle through '${name}'`);
    state.set(name, 'visiting');
    if (node.op !== 'Const') for (const i of node.input ?? []) visit(i);
    state.set(name, 'done');
    order.push(node);
  };
  for (const o of outputNames) visit(o);

  // Residual tails to fuse: Relu node name -> [conv ref, skip ref]; the AddV2 and Pad they replace.
  const fused = new Map<string, [string, string]>();
  const absorbed = new Set<string>();
  if (options.fuseResiduals && tf.getKernel(RESIDUAL_RELU_KERNEL, tf.engine().backendName)) {
    const readers = new Map<string, number>();
    for (const n of order) for (const i of n.op === 'Const' ? [] : new Set(n.input ?? [])) readers.set(i.replace(/:0$/, ''), (readers.get(i.replace(/:0$/, '')) ?? 0) + 1);
    const private1 = (name: string) => readers.get(name) === 1 && !outputNames.includes(name);
    const scalar = (ref: string) => weights[ref.replace(/:0$/, '')]?.[0]?.dataSync()[0];
    for (const relu of order) {
      if (relu.op !== 'Relu' || relu.input?.length !== 1) continue;
      const add = byName.get(relu.input[0]!.replace(/:0$/, ''))!;
      if ((add.op !== 'AddV2' && add.op !== 'Add') || add.input?.length !== 2 || !private1(add.name)) continue;
      const [a, b] = add.input.map((r) => r.replace(/:0$/, '')) as [string, string];
      const padOf = (r: string) => {
        const n = byName.get(r)!;
        return private1(r) && isChannelAppendPad(n, intValues, scalar) ? n : null;
      };
      const [pa, pb] = [padOf(a), padOf(b)];
      const pad = pb ?? pa;
      if (pad) {
        fused.set(relu.name, [pad === pb ? a : b, pad.input![0]!]);
        absorbed.add(pad.name);
      } else {
        fused.set(relu.name, [a, b]);
      }
      absorbed.add(add.name);
    }
  }

  const slot = (ref: string): number => slotOf.get(ref.replace(/:0$/, ''))!;
  for (const node of order) {
    if (absorbed.has(node.name)) continue;
    const at = attrs(node);
    const ins = node.input ?? [];
    const x = (): number => slot(ins[0]!);
    const add = (kernel: string, inputs: Step['inputs'], stepAttrs: Record<string, unknown> = {}): void => {
      const out = slots++;
      steps.push({ kernel, inputs, attrs: stepAttrs, out, frees: [] });
      slotOf.set(node.name, out);
    };
    switch (node.op) {
      case 'Placeholder':
        if (node.name !== inputName) throw new Unsupported(`placeholder '${node.name}' is not the input '${inputName}'`);
        slotOf.set(node.name, 0);
        break;
      case 'Const': {
        const t = weights[node.name]?.[0];
        if (!t) throw new Unsupported(`constant '${node.name}' has no loaded weight`);
        const s = slots++;
        constants[s] = t;
        slotOf.set(node.name, s);
        break;
      }
      case 'Identity':
        slotOf.set(node.name, x());
        break;
      case 'Relu': {
        const residual = fused.get(node.name);
        if (residual) add(RESIDUAL_RELU_KERNEL, { conv: slot(residual[0]), skip: slot(residual[1]) });
        else add('Relu', { x: x() });
        break;
      }
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative': {
        const fused = at.strs('fused_ops');
        const activation = fused.length === 1 ? 'linear' : ACTIVATIONS[fused[1]!];
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || !activation || ins.length !== 3) {
          throw new Unsupported(`node '${node.name}' fuses [${fused.join(', ')}] over ${ins.length} inputs`);
        }
        nhwc(at, node);
        add(node.op === '_FusedConv2D' ? 'FusedConv2D' : 'FusedDepthwiseConv2D', { x: x(), filter: slot(ins[1]!), bias: slot(ins[2]!) }, {
          strides: spatial(at, 'strides', node),
          pad: convPadding(at, node),
          dataFormat: 'NHWC',
          dilations: spatial(at, 'dilations', node),
          dimRoundingMode: undefined,
          activation,
        });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
        nhwc(at, node);
        add(node.op, { x: x(), filter: slot(ins[1]!) }, {
          strides: spatial(at, 'strides', node),
          pad: convPadding(at, node),
          dataFormat: 'NHWC',
          dilations: spatial(at, 'dilations', node),
          dimRoundingMode: undefined,
        });
        break;
      case 'AddV2':
      case 'Add':
        add('Add', { a: x(), b: slot(ins[1]!) });
        break;
      case 'Pad':
      case 'PadV2': {
        const p = intValues(ins[1]!.replace(/:0$/, ''));
        const constantValue = node.op === 'PadV2' ? Number(weights[ins[2]!.replace(/:0$/, '')]?.[0]?.dataSync()[0] ?? NaN) : 0;
        if (Number.isNaN(constantValue)) throw new Unsupported(`node '${node.name}' has no constant pad value`);
        const paddings: [number, number][] = [];
        for (let i = 0; i < p.length; i += 2) paddings.push([p[i]!, p[i + 1]!]);
        add('PadV2', { x: x() }, { paddings, constantValue });
        break;
      }
      case 'MaxPool':
        nhwc(at, node);
        add('MaxPool', { x: x() }, { filterSize: spatial(at, 'ksize', node), strides: spatial(at, 'strides', node), pad: convPadding(at, node), dimRoundingMode: undefined });
        break;
      case 'Reshape':
        add('Reshape', { x: x() }, { shape: intValues(ins[1]!.replace(/:0$/, '')) });
        break;
      case 'ConcatV2': {
        const axis = intValues(ins[ins.length - 1]!.replace(/:0$/, ''));
        if (axis.length !== 1) throw new Unsupported(`node '${node.name}' has no scalar axis`);
        add('Concat', ins.slice(0, -1).map(slot), { axis: axis[0] });
        break;
      }
      case 'ResizeBilinear':
        add('ResizeBilinear', { images: x() }, {
          size: intValues(ins[1]!.replace(/:0$/, '')),
          alignCorners: at.bool('align_corners', false),
          halfPixelCenters: at.bool('half_pixel_centers', false),
        });
        break;
      case 'DepthToSpace':
        nhwc(at, node);
        add('DepthToSpace', { x: x() }, { blockSize: at.int('block_size'), dataFormat: 'NHWC' });
        break;
      case 'ClipByValue': {
        const scalar = (ref: string) => weights[ref.replace(/:0$/, '')]?.[0]?.dataSync()[0];
        const [lo, hi] = [scalar(ins[1]!), scalar(ins[2]!)];
        if (lo === undefined || hi === undefined) throw new Unsupported(`node '${node.name}' has no constant bounds`);
        add('ClipByValue', { x: x() }, { clipValueMin: Number(lo), clipValueMax: Number(hi) });
        break;
      }
      default: {
        const unary = UNARY[node.op];
        if (!unary) throw new Unsupported(`op ${node.op} (node '${node.name}') is not planned`);
        add(unary, { x: x() });
      }
    }
  }

  // Free each intermediate after its last reader; never the input, constants or outputs.
  const outSlots = outputNames.map(slot);
  const keep = new Set([0, ...outSlots]);
  const lastReader = new Map<number, number>();
  steps.forEach((st, i) => {
    for (const s of Object.values(st.inputs) as number[]) lastReader.set(s, i);
  });
  const planned = steps.map((st, i) => ({
    ...st,
    frees: [...lastReader].filter(([s, at]) => at === i && !keep.has(s) && constants[s] === undefined).map(([s]) => s),
  }));
  const engine = tf.engine();
  // Input maps prebuilt as [name, slot] pairs; Concat takes an array.
  const bound = planned.map((st) => ({ ...st, pairs: Array.isArray(st.inputs) ? null : Object.entries(st.inputs as Record<string, number>) }));
  const gather = (st: (typeof bound)[number], values: readonly (TfCore.TensorInfo | undefined)[]): unknown => {
    if (!st.pairs) return (st.inputs as number[]).map((s) => values[s]!);
    const ins: Record<string, TfCore.TensorInfo> = {};
    for (const [k, s] of st.pairs) ins[k] = values[s]!;
    return ins;
  };
  // Direct kernel calls: each backend kernel's own function on TensorInfos, the engine only seeing the
  // outputs. Used when every kernel is registered for the backend active at plan time.
  const backendName = engine.backendName;
  const kernelFuncs = options.direct ? bound.map((st) => tf.getKernel(st.kernel, backendName)?.kernelFunc) : [];
  const direct = options.direct === true && kernelFuncs.every((f) => f !== undefined);
  const isTensor = (t: TfCore.TensorInfo): t is Tensor => (t as Tensor).rank !== undefined;

  const viaEngine = (input: Tensor): Tensor[] => {
    const values: (Tensor | undefined)[] = constants.slice();
    values[0] = input;
    const live = new Set<Tensor>();
    try {
      for (const st of bound) {
        const out = engine.runKernel(st.kernel, gather(st, values) as TfCore.NamedTensorMap, st.attrs as unknown as TfCore.NamedAttrMap) as Tensor;
        values[st.out] = out;
        live.add(out);
        for (const s of st.frees) {
          const t = values[s]!;
          live.delete(t);
          t.dispose();
          values[s] = undefined;
        }
      }
      const outs = outSlots.map((s) => values[s]!);
      for (const t of outs) live.delete(t);
      // The caller disposes every returned tensor: the input, a constant or a repeated output comes back as a copy.
      return outs.map((t, i) => (t === input || constants.includes(t) || outs.indexOf(t) < i ? t.clone() : t));
    } finally {
      for (const t of live) t.dispose();
    }
  };

  const viaKernels = (input: Tensor): Tensor[] => {
    const backend = engine.backend;
    if (engine.backendName !== backendName) throw new Error(`this plan was made for the tfjs backend '${backendName}', the active one is '${engine.backendName}'`);
    const values: (TfCore.TensorInfo | undefined)[] = constants.slice();
    values[0] = input;
    const live = new Set<TfCore.TensorInfo>();
    const release = (t: TfCore.TensorInfo) => (isTensor(t) ? t.dispose() : backend.disposeData(t.dataId));
    try {
      bound.forEach((st, i) => {
        const out = kernelFuncs[i]!({ inputs: gather(st, values) as TfCore.NamedTensorInfoMap, attrs: st.attrs as TfCore.NamedAttrMap, backend });
        if (Array.isArray(out)) throw new Error(`kernel ${st.kernel} returned ${out.length} outputs, expected one`);
        values[st.out] = out;
        live.add(out);
        for (const s of st.frees) {
          const t = values[s]!;
          live.delete(t);
          release(t);
          values[s] = undefined;
        }
      });
      const outs = outSlots.map((s) => values[s]!);
      const result: Tensor[] = [];
      outs.forEach((t, i) => {
        // Kernel outputs become engine tensors the caller disposes; the input, constants and repeats are copied.
        if (t === input || constants.includes(t as Tensor) || outs.indexOf(t) < i) result.push((t as Tensor).clone());
        else {
          live.delete(t);
          result.push(isTensor(t) ? t : engine.makeTensorFromTensorInfo(t, backend));
        }
      });
      return result;
    } finally {
      for (const t of live) release(t);
    }
  };

  return {
    kernels: planned.length,
    residualKernels: planned.filter((st) => st.kernel === RESIDUAL_RELU_KERNEL).length,
    direct,
    execute: direct ? viaKernels : viaEngine,
  };
}

/** Wrap a tfjs IOHandler so the modelTopology it loads can be planned afterwards. */
export function withTopologyCapture(handler: TfCore.io.IOHandler): { handler: TfCore.io.IOHandler; topology(): { node?: TfjsNode[] } | undefined } {
  let topology: { node?: TfjsNode[] } | undefined;
  return {
    handler: {
      load: async () => {
        if (!handler.load) throw new Error('the tfjs IOHandler cannot load');
        const artifacts = await handler.load();
        topology = artifacts.modelTopology as { node?: TfjsNode[] } | undefined;
        return artifacts;
      },
    },
    topology: () => topology,
  };
}

/** What a loaded GraphModel offers the check below. */
export interface GraphModelLike {
  readonly weights: Readonly<Record<string, readonly Tensor[]>>;
  execute(inputs: Record<string, Tensor>, outputs: string[]): Tensor | Tensor[];
}

/**
 * Plan the model, then prove the plan on one image at load: GraphModel.execute (whose ops check every
 * shape, where a raw kernel call would not) and the plan must give identical outputs on a fixed
 * `inputShape` batch of 1. Any doubt leaves the model on GraphModel.execute, with the reason.
 */
export function planAndCheck(
  tf: Tf & Pick<typeof TfCore, 'tensor'>,
  model: GraphModelLike,
  topology: { readonly node?: readonly TfjsNode[] } | undefined,
  inputName: string,
  outputNames: readonly string[],
  inputShape: readonly number[],
): { plan: TfjsPlan | null; note: string } {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(Float32Array.from({ length: size }, (_, i) => ((i * 7919) % 255) / 127.5 - 1), [...inputShape], 'float32');
  let theirs: Tensor[] = [];
  try {
    try {
      const out = model.execute({ [inputName]: x }, [...outputNames]);
      theirs = Array.isArray(out) ? out : [out];
    } catch (err) {
      // The run will fail the same way and say so; no plan is tried on a graph tfjs itself refuses.
      return { plan: null, note: `runs through GraphModel.execute (it fails on a test image: ${err instanceof Error ? err.message : String(err)})` };
    }
    const expected = theirs.map((t) => t.dataSync());
    const why: string[] = [];
    registerResidualReluKernel(tf); // for tfjs-wasm only
    // Direct kernel calls with the residual kernel first, then plain engine calls, then GraphModel.execute.
    for (const fuseResiduals of [true, false]) {
      const plan = planTfjsGraph(tf, topology, model.weights, inputName, outputNames, { fuseResiduals, direct: fuseResiduals });
      if ('unsupported' in plan) return { plan: null, note: `runs through GraphModel.execute (${plan.unsupported})` };
      let ours: Tensor[] = [];
      try {
        ours = plan.execute(x);
        const k = expected.findIndex((a, k) => {
          const b = ours[k]?.dataSync();
          // -0 and +0 count as equal (a fused max(x, 0) may give either); NaN equals NaN.
          return !b || a.length !== b.length || a.some((v, i) => v !== b[i] && !(Number.isNaN(v) && Number.isNaN(b[i]!)));
        });
        if (k < 0) {
          const residuals = plan.residualKernels ? ` (${plan.residualKernels} of them the fused residual Relu kernel)` : '';
          const how = plan.direct ? 'direct kernel calls' : 'tfjs kernel calls';
          return { plan, note: `runs as a fixed sequence of ${plan.kernels} ${how}${residuals}, checked against GraphModel.execute at load` };
        }
        why.push(`${fuseResiduals ? 'fused' : 'plain'} plan: output ${outputNames[k]} differed on a test image`);
      } catch (err) {
        why.push(`${fuseResiduals ? 'fused' : 'plain'} plan: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        for (const t of ours) t.dispose();
      }
    }
    return { plan: null, note: `runs through GraphModel.execute (${why.join('; ')})` };
  } finally {
    for (const t of [x, ...theirs]) t.dispose();
  }
}

/** Where a run happens, for its errors: the artifact and the backend's name. */
export interface GraphRunContext {
  readonly artifact: string;
  readonly name: string;
  /** The batch size and output dims the caller checked the batch against. */
  readonly expected: { readonly batch: number; readonly numAnchors: number; readonly numCoords: number };
  /**
   * Read outputs with dataSync (every Node tfjs backend reads synchronously; data() only adds promise
   * hops) or data() (the browser: a GPU backend must not block the page).
   */
  readonly readSync: boolean;
}

/**
 * One batch through the plan, or GraphModel.execute when there is none: the outputs checked against
 * the expected shapes and read back; every tensor made here is disposed. Shared by the Node and browser
 * tfjs backends, which call it with their tfjs backend active and runs serialized.
 */
export async function runGraphModel(
  tf: Pick<typeof TfCore, 'tensor4d'>,
  model: Pick<GraphModelLike, 'execute'>,
  plan: TfjsPlan | null,
  inputName: string,
  outputNames: readonly string[],
  batch: ImageBatch,
  ctx: GraphRunContext,
): Promise<RawOutputs> {
  const { artifact, name, expected } = ctx;
  const x = tf.tensor4d(batch.data, [...batch.shape], 'float32');
  let results: Tensor[] = [];
  try {
    try {
      results = plan ? plan.execute(x) : (model.execute({ [inputName]: x }, [...outputNames]) as Tensor[]);
    } catch (err) {
      // tfjs's own errors (e.g. "TypeError: Unknown op") do not say which model.
      throw new BackendError('BACKEND_RUN_FAILED', `${artifact}: ${name} failed to run the graph model (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})`, {
        file: artifact,
        cause: err,
      });
    }
    const [reg, cls] = results as [Tensor, Tensor];
    checkOutputShapes(artifact, name, { regressors: reg.shape, classificators: cls.shape }, expected);
    const [regressors, classificators] = (ctx.readSync ? [reg.dataSync(), cls.dataSync()] : await Promise.all([reg.data(), cls.data()])) as [Float32Array, Float32Array];
    return { regressors, classificators, batch: expected.batch, numAnchors: expected.numAnchors, numCoords: expected.numCoords };
  } finally {
    x.dispose();
    for (const t of results) t.dispose();
  }
}

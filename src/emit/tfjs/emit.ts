// TensorFlow.js `graph-model` emitter: Graph IR -> model.json + binary weight shards, loadable with
// tf.loadGraphModel. One Placeholder `input` [-1,H,W,3], the ops lowered by ./lowering.ts, and two
// outputs `regressors` [N,A,16] and `classificators` [N,A,1] (the nodes computing them carry those
// names). Same graph in, same bytes out.
import { detectorOutputs, imageInput, type Graph, type Op } from '../../ir/graph.js';
import type { Preset } from '../../presets/types.js';
import { TOOLKIT_NAME } from '../../version.js';
import { TfjsGraphBuilder, type ConstWeight } from './builder.js';
import { encodeFloat16Exact } from './float16.js';
import { attr, shapeProto, type NodeDef } from './graph-def.js';
import { lowerOp } from './lowering.js';
import { findPadFolds } from '../onnx/emit.js';

export type TfjsWeightDtype = 'float16' | 'float32';

export interface TfjsEmitOptions {
  /** Storage of float weights; float16 is widened to float32 by tfjs at load. */
  readonly weightDtype: TfjsWeightDtype;
  readonly toolkitVersion: string;
  /** Maximum shard size in bytes (tfjs-converter's default, 4 MiB). */
  readonly shardBytes?: number;
}

export interface TfjsManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly quantization?: { readonly dtype: 'float16' };
}

export interface TfjsTensorInfo {
  readonly name: string;
  readonly dtype: 'DT_FLOAT';
  readonly tensorShape: ReturnType<typeof shapeProto>;
}

export interface TfjsModelJson {
  readonly format: 'graph-model';
  readonly generatedBy: string;
  readonly convertedBy: string;
  readonly modelTopology: { readonly node: readonly NodeDef[]; readonly library: object; readonly versions: { readonly producer: number; readonly minConsumer: number } };
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly TfjsManifestEntry[] }[];
  readonly signature: { readonly inputs: Record<string, TfjsTensorInfo>; readonly outputs: Record<string, TfjsTensorInfo> };
  readonly userDefinedMetadata: Record<string, unknown>;
}

export interface TfjsShard {
  readonly fileName: string;
  readonly bytes: Uint8Array;
}

export interface TfjsArtifacts {
  readonly modelJson: TfjsModelJson;
  /** The weight shards in manifest order (one for these models: they are far below 4 MiB). */
  readonly shards: readonly TfjsShard[];
  /** All shards concatenated: what `ArtifactOverrides.tfjs.weights` expects. */
  readonly weights: Uint8Array;
  /** Name of the first shard (the only one unless the weights exceed `shardBytes`). */
  readonly weightsFileName: string;
  /** Facts worth reporting, e.g. tensors kept as float32 because float16 would round them. */
  readonly notes: readonly string[];
  /** How many float weight tensors are stored as float16 and as float32 (float16 falls back per tensor when lossy); int32 operands not counted. */
  readonly weightStorage: { readonly float16: number; readonly float32: number };
}

export const INPUT_NAME = 'input';
export const OUTPUT_NAMES = ['regressors', 'classificators'] as const;
const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;
// GraphDef versions of the TensorFlow release whose op semantics the nodes follow (TF 2.x);
// tfjs only reads them into GraphModel.modelVersion.
const GRAPH_DEF_VERSIONS = { producer: 1395, minConsumer: 12 } as const;

function tensorInfo(node: string, shape: readonly number[]): TfjsTensorInfo {
  return { name: `${node}:0`, dtype: 'DT_FLOAT', tensorShape: shapeProto(shape) };
}

/** Serialize the weights in node order; float tensors as float16 when lossless and requested. */
function packWeights(
  weights: readonly ConstWeight[],
  dtype: TfjsWeightDtype,
  fileName: string,
): { entries: TfjsManifestEntry[]; bytes: Uint8Array; float32Fallbacks: { name: string; why: string }[] } {
  const entries: TfjsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const float32Fallbacks: { name: string; why: string }[] = [];
  for (const w of weights) {
    const base = { name: w.name, shape: [...w.shape], dtype: w.dtype } as const;
    if (w.dtype === 'float32' && dtype === 'float16') {
      const enc = encodeFloat16Exact(w.data as Float32Array);
      if (enc.ok) {
        entries.push({ ...base, quantization: { dtype: 'float16' } });
        chunks.push(new Uint8Array(enc.halves.buffer));
        continue;
      }
      float32Fallbacks.push({ name: w.name, why: `value #${enc.index} = ${w.data[enc.index]} is not a float16 (${fileName})` });
    }
    entries.push(base);
    // Copy so the shard never aliases IR memory; little-endian like every host tfjs runs on.
    chunks.push(new Uint8Array(w.data.buffer.slice(w.data.byteOffset, w.data.byteOffset + w.data.byteLength)));
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return { entries, bytes, float32Fallbacks };
}

/**
 * conv op index -> index of the RELU op folded into it: the conv has a bias, no activation of its own,
 * and its output feeds only that RELU (and is no graph output).
 */
export function findReluFolds(graph: Graph): Map<number, number> {
  const consumers = new Map<number, number>();
  for (const op of graph.ops) for (const i of new Set(op.inputs)) if (i >= 0) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const producer = new Map<number, Op>();
  for (const op of graph.ops) for (const o of op.outputs) producer.set(o, op);
  const folds = new Map<number, number>();
  for (const op of graph.ops) {
    if (op.type !== 'RELU' || op.inputs.length !== 1) continue;
    const x = op.inputs[0]!;
    const conv = producer.get(x);
    if (!conv || (conv.type !== 'CONV_2D' && conv.type !== 'DEPTHWISE_CONV_2D') || conv.activation !== 'NONE') continue;
    const bias = conv.inputs[2];
    if (bias === undefined || bias < 0 || consumers.get(x) !== 1 || graph.outputs.includes(x)) continue;
    folds.set(conv.index, op.index);
  }
  return folds;
}

export function emitTfjs(graph: Graph, preset: Preset, opts: TfjsEmitOptions): TfjsArtifacts {
  const b = new TfjsGraphBuilder(graph);
  const input = imageInput(graph);
  const inputShape = [-1, ...input.shape.slice(1)];
  b.bind(input.index, b.node(INPUT_NAME, 'Placeholder', [], { dtype: attr.type('DT_FLOAT'), shape: attr.shape(inputShape) }));

  // Zero spatial PADs feeding one conv become that conv's explicit padding (one kernel less).
  b.padFolds = findPadFolds(graph);
  const folded = new Set([...b.padFolds.values()].map((f) => f.padOp));
  // A standalone RELU whose only input is a conv's output joins that conv's fused ops (one kernel less).
  b.reluFolds = findReluFolds(graph);
  for (const reluOp of b.reluFolds.values()) folded.add(reluOp);
  for (const op of graph.ops) {
    if (folded.has(op.index)) continue;
    lowerOp(op, b);
    const relu = b.reluFolds.get(op.index);
    if (relu !== undefined) b.bind(graph.ops.find((o) => o.index === relu)!.outputs[0]!, b.value(op.outputs[0]!));
  }

  const outs = detectorOutputs(graph);
  const outputShapes: Record<(typeof OUTPUT_NAMES)[number], number[]> = {
    regressors: [-1, ...outs.regressors.shape.slice(1)],
    classificators: [-1, ...outs.classificators.shape.slice(1)],
  };
  // The node computing each output takes the output's name (no Identity kernel per run), unless it is
  // shared by both outputs, a constant or the input.
  const [regNode, clsNode] = [b.value(outs.regressors.index), b.value(outs.classificators.index)];
  for (const [name, node] of [['regressors', regNode], ['classificators', clsNode]] as const) {
    if (regNode !== clsNode && !b.isSourceNode(node)) b.rename(node, name);
    else b.node(name, 'Identity', [node], { T: attr.type('DT_FLOAT') });
  }

  const packed = packWeights(b.weights, opts.weightDtype, graph.source.fileName);
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const count = Math.max(1, Math.ceil(packed.bytes.byteLength / shardBytes));
  const shards: TfjsShard[] = [];
  for (let i = 0; i < count; i++) {
    shards.push({ fileName: `group1-shard${i + 1}of${count}.bin`, bytes: packed.bytes.slice(i * shardBytes, (i + 1) * shardBytes) });
  }

  const float16Count = packed.entries.filter((e) => e.quantization).length;
  const notes: string[] = [];
  if (opts.weightDtype === 'float16') {
    notes.push(`float16 weight storage: ${float16Count} tensors stored as float16 (each round-trips to the same float32 bits)`);
    if (packed.float32Fallbacks.length) {
      notes.push(`${packed.float32Fallbacks.length} float tensors kept as float32 because float16 would change them: ${packed.float32Fallbacks.map((f) => `${f.name}: ${f.why}`).join('; ')}`);
    }
  }

  const modelJson: TfjsModelJson = {
    format: 'graph-model',
    generatedBy: `${graph.source.fileName} (TFLite schema ${graph.schemaVersion})`,
    convertedBy: `${TOOLKIT_NAME} ${opts.toolkitVersion}`,
    modelTopology: { node: b.nodes, library: {}, versions: GRAPH_DEF_VERSIONS },
    weightsManifest: [{ paths: shards.map((s) => s.fileName), weights: packed.entries }],
    signature: {
      inputs: { [INPUT_NAME]: tensorInfo(INPUT_NAME, inputShape) },
      outputs: {
        regressors: tensorInfo('regressors', outputShapes.regressors),
        classificators: tensorInfo('classificators', outputShapes.classificators),
      },
    },
    userDefinedMetadata: {
      toolkit: { name: TOOLKIT_NAME, version: opts.toolkitVersion },
      source: { fileName: graph.source.fileName, sha256: graph.source.sha256, byteLength: graph.source.byteLength },
      preset: preset.name,
      inputSize: { width: preset.inputWidth, height: preset.inputHeight },
      normalization: 'x / 127.5 - 1 (RGB)',
      weightStorage: opts.weightDtype,
      float32Fallbacks: packed.float32Fallbacks.map((f) => f.name),
    },
  };
  const weightStorage = { float16: float16Count, float32: packed.entries.filter((e) => e.dtype === 'float32' && !e.quantization).length };
  return { modelJson, shards, weights: packed.bytes, weightsFileName: shards[0]!.fileName, notes, weightStorage };
}

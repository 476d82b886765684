// Shared by the parity tests: an artifacts tree to verify, and IR mutations that a correct verifier must catch.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ARTIFACTS_ROOT, MANIFEST_FILE, readManifest } from '../../src/artifacts/manifest.js';
import { convertPreset } from '../../src/convert/convert.js';
import type { Conv2DOp, DepthwiseConv2DOp, Graph, Op, Tensor } from '../../src/ir/graph.js';
import { detectorOutputs } from '../../src/ir/graph.js';
import type { PresetName } from '../../src/presets/types.js';
import { getPreset } from '../../src/presets/index.js';

/**
 * The artifacts the gate checks: the repository's artifacts/ when its manifest lists every preset (what
 * ships), otherwise a fresh `convert` into a temporary root, so the gate also runs on a clean checkout.
 */
export async function gateArtifactsRoot(
  presets: readonly PresetName[],
  log: (line: string) => void = () => {},
): Promise<{ root: string; temporary: boolean }> {
  if (existsSync(path.join(DEFAULT_ARTIFACTS_ROOT, MANIFEST_FILE))) {
    try {
      const manifest = readManifest(DEFAULT_ARTIFACTS_ROOT);
      if (presets.every((p) => p in manifest.presets)) return { root: DEFAULT_ARTIFACTS_ROOT, temporary: false };
    } catch {
      // unreadable manifest: fall through to a fresh conversion
    }
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'blazeface-gate-artifacts-'));
  log(`artifacts/ is not converted for ${presets.join(', ')}: converting into ${root}`);
  for (const p of presets) await convertPreset(getPreset(p), { artifactsRoot: root });
  return { root, temporary: true };
}

function producer(graph: Graph, tensor: number): Op {
  const op = graph.ops.find((o) => o.outputs.includes(tensor));
  if (!op) throw new Error(`${graph.source.fileName}: no op produces tensor ${tensor}`);
  return op;
}

export interface Head {
  /** The convolution whose output channels become this head's rows. */
  conv: Conv2DOp;
  /** First row of the head in the concatenated output, and its row count. */
  rowOffset: number;
  rows: number;
}

/** The head convolutions of an output (regressors or classificators), walking back from its concatenation. */
export function outputHeads(graph: Graph, which: 'regressors' | 'classificators'): Head[] {
  const out = detectorOutputs(graph)[which];
  let op = producer(graph, out.index);
  const parts = op.type === 'CONCATENATION' ? op.inputs : [out.index];
  const heads: Head[] = [];
  let rowOffset = 0;
  for (const part of parts) {
    op = producer(graph, part);
    while (op.type === 'RESHAPE') op = producer(graph, op.inputs[0]!);
    if (op.type !== 'CONV_2D') throw new Error(`${which}: expected a CONV_2D head, found ${op.type} #${op.index}`);
    const rows = graph.tensors[part]!.shape[1]!;
    heads.push({ conv: op, rowOffset, rows });
    rowOffset += rows;
  }
  return heads;
}

function withTensorData(graph: Graph, index: number, data: Float32Array): Graph {
  const tensors = graph.tensors.map((t): Tensor => (t.index === index ? { ...t, data } : t));
  return { ...graph, tensors };
}

/** Swap output channels a and b of a convolution (its kernel rows and bias entries): a wiring bug. */
export function swapOutputChannels(graph: Graph, conv: Conv2DOp, a: number, b: number): Graph {
  const w = graph.tensors[conv.inputs[1]!]!;
  const [o, kh, kw, i] = w.shape as [number, number, number, number];
  if (a >= o || b >= o) throw new Error(`conv #${conv.index} has ${o} output channels`);
  const per = kh * kw * i;
  const data = Float32Array.from(w.data as Float32Array);
  const rowA = data.slice(a * per, (a + 1) * per);
  data.copyWithin(a * per, b * per, (b + 1) * per);
  data.set(rowA, b * per);
  let g = withTensorData(graph, w.index, data);
  const biasIndex = conv.inputs[2];
  if (biasIndex !== undefined && biasIndex >= 0) {
    const bias = Float32Array.from(graph.tensors[biasIndex]!.data as Float32Array);
    [bias[a], bias[b]] = [bias[b]!, bias[a]!];
    g = withTensorData(g, biasIndex, bias);
  }
  return g;
}

/** Transpose the H and W axes of a square conv/depthwise kernel ([O|1, KH, KW, I]): a layout bug. */
export function transposeKernelHW(graph: Graph, op: Conv2DOp | DepthwiseConv2DOp): Graph {
  const w = graph.tensors[op.inputs[1]!]!;
  const [o, kh, kw, i] = w.shape as [number, number, number, number];
  if (kh !== kw) throw new Error(`kernel of op #${op.index} is ${kh}x${kw}, not square`);
  const src = w.data as Float32Array;
  const data = new Float32Array(src.length);
  for (let n = 0; n < o; n++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let c = 0; c < i; c++) data[((n * kh + x) * kw + y) * i + c] = src[((n * kh + y) * kw + x) * i + c]!;
  return withTensorData(graph, w.index, data);
}

/** The first CONV_2D with a kernel larger than 1x1 (the 5x5 stem of the BlazeFace models). */
export function firstSpatialConv(graph: Graph): Conv2DOp {
  const op = graph.ops.find((o): o is Conv2DOp => o.type === 'CONV_2D' && graph.tensors[o.inputs[1]!]!.shape[1]! > 1);
  if (!op) throw new Error(`${graph.source.fileName}: no spatial CONV_2D`);
  return op;
}

// The verifier must catch real conversion bugs: a mutated graph, emitted in memory and run through a
// real runtime via ModelSource.overrides, fails compareOutputs with a message naming the backend and the
// tensor (and, for a head mutation, the exact rows and coordinates it touches). Controls: the faithful
// emissions pass, so the failures come from the mutations.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactOverrides, BackendName, ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { getBackendFactory } from '../src/backends/index.js';
import { emitOnnx } from '../src/emit/onnx/emit.js';
import { emitTfjs } from '../src/emit/tfjs/emit.js';
import type { Graph } from '../src/ir/graph.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { compareOutputs, DEFAULT_TOLERANCES, type Comparison } from '../src/verify/compare.js';
import { presetDecoder } from '../src/verify/decode.js';
import { loadVerifyInputs, prepareInputs, type VerifyInput } from '../src/verify/inputs.js';
import { TOOLKIT_VERSION } from '../src/version.js';
import { firstSpatialConv, outputHeads, swapOutputChannels, transposeKernelHW } from './helpers/parity.js';

const preset = getPreset('short_range');
let source: ModelSource;
let inputs: VerifyInput[];
let batch: ImageBatch;
let ref: RawOutputs;
const decode = presetDecoder(preset);
const RAW_FAILURE = /^short_range \/ (\S+) \/ (\S+) \/ (regressors|classificators)\[0, (\d+), (\d+)\]: (?:\|diff\| \S+ > 1e-4\*\(1\+\|ref\|\)|non-finite)/;

beforeAll(async () => {
  // The .tflite only: the mutated artifacts come in memory, the files on disk are not needed.
  source = await loadModelSource(preset, { verifyArtifacts: false });
  inputs = await loadVerifyInputs({ randomCount: 1 });
  batch = (await prepareInputs(inputs, preset)).batch;
  const reference = await (await getBackendFactory('reference')).load(source);
  try {
    ref = await reference.run(batch);
  } finally {
    await reference.dispose();
  }
});

async function compareWith(name: BackendName, overrides: ArtifactOverrides): Promise<Comparison> {
  const backend = await (await getBackendFactory(name)).load({ ...source, overrides });
  try {
    expect(backend.artifact).toMatch(/^in-memory/);
    const got = await backend.run(batch);
    return compareOutputs(ref, got, inputs, DEFAULT_TOLERANCES, { preset: preset.name, backend: name, decode });
  } finally {
    await backend.dispose();
  }
}

function rawFailures(cmp: Comparison): RegExpExecArray[] {
  return cmp.failures.map((f) => RAW_FAILURE.exec(f)).filter((m): m is RegExpExecArray => m !== null);
}

const onnx = (graph: Graph): ArtifactOverrides => ({ onnx: emitOnnx(graph, preset, { toolkitVersion: TOOLKIT_VERSION }) });
const tfjs = (graph: Graph): ArtifactOverrides => {
  const t = emitTfjs(graph, preset, { weightDtype: 'float16', toolkitVersion: TOOLKIT_VERSION });
  return { tfjs: { modelJson: t.modelJson, weights: t.weights } };
};

describe('onnxruntime-node catches a swapped output channel in a regressor head', () => {
  it('control: the faithful model.onnx passes', async () => {
    const cmp = await compareWith('onnxruntime-node', onnx(source.graph));
    expect(cmp.failures).toEqual([]);
    expect(cmp.pass).toBe(true);
  });

  it('mutant: fails on regressors only, at the swapped coordinates of the head rows', async () => {
    const head = outputHeads(source.graph, 'regressors')[0]!;
    const channels = source.graph.tensors[head.conv.inputs[1]!]!.shape[0]!;
    const perCell = channels / preset.decode.numCoords;
    // Channels 3 and 5 of the first anchor of each cell: box height and the right eye's y.
    const mutated = swapOutputChannels(source.graph, head.conv, 3, 5);
    const cmp = await compareWith('onnxruntime-node', onnx(mutated));
    expect(cmp.pass).toBe(false);
    const raw = rawFailures(cmp);
    expect(raw.length, cmp.failures.join('\n')).toBeGreaterThan(0);
    for (const m of raw) {
      const [, backend, input, tensor, anchor, coord] = m;
      expect(backend).toBe('onnxruntime-node');
      expect(inputs.map((i) => i.name)).toContain(input);
      expect(tensor).toBe('regressors');
      expect(Number(anchor)).toBeGreaterThanOrEqual(head.rowOffset);
      expect(Number(anchor)).toBeLessThan(head.rowOffset + head.rows);
      expect(Number(anchor) % perCell).toBe(0);
      expect([3, 5]).toContain(Number(coord));
    }
    expect(cmp.failures.some((f) => f.includes('classificators['))).toBe(false);
    // Every image sees the swap; the classifier head is untouched.
    for (const r of cmp.inputs) {
      expect(r.regressors.pass, r.input).toBe(false);
      expect(r.classificators.pass, r.input).toBe(true);
    }
  });
});

describe('tfjs-cpu catches a stem kernel with H and W transposed', () => {
  it('control: the faithful tfjs graph model passes', async () => {
    const cmp = await compareWith('tfjs-cpu', tfjs(source.graph));
    expect(cmp.failures).toEqual([]);
  });

  it('mutant: fails with messages naming tfjs-cpu, input, tensor and index', async () => {
    const mutated = transposeKernelHW(source.graph, firstSpatialConv(source.graph));
    const cmp = await compareWith('tfjs-cpu', tfjs(mutated));
    expect(cmp.pass).toBe(false);
    const raw = rawFailures(cmp);
    expect(raw.length, cmp.failures.join('\n')).toBeGreaterThan(0);
    for (const m of raw) expect(m[1]).toBe('tfjs-cpu');
    // A stem bug reaches both outputs and is far outside tolerance, not a rounding blip.
    expect(raw.some((m) => m[3] === 'regressors')).toBe(true);
    expect(raw.some((m) => m[3] === 'classificators')).toBe(true);
    const worst = Math.max(...cmp.inputs.map((r) => r.regressors.maxErr ?? Infinity));
    expect(worst).toBeGreaterThan(1e-2);
    // The photos' faces move or vanish: decoded detections disagree too.
    expect(cmp.inputs.some((r) => r.detections && !r.detections.pass)).toBe(true);
  });
});


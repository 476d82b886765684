// The lean tfjs executor (src/emit/tfjs/runner.ts) against tfjs-converter's GraphModel.execute on the
// same loaded model: identical outputs on every packaged preset (SAME/VALID/EXPLICIT conv padding, Pad,
// MaxPool, ResizeBilinear, DepthToSpace, Reshape, Concat), no tensor left behind on success or failure,
// graphs it does not know handed back with the reason, and the emitter's Relu folding visible in model.json.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfjsWasmBackend } from '../src/backends/tfjs.js';
import { emitTfjs, findReluFolds, INPUT_NAME, OUTPUT_NAMES, type TfjsArtifacts } from '../src/emit/tfjs/emit.js';
import { tfjsMemoryHandler } from '../src/emit/tfjs/io.js';
import { planAndCheck, planTfjsGraph, type TfjsNode, type TfjsPlan } from '../src/emit/tfjs/runner.js';
import { registerResidualReluKernel, RESIDUAL_RELU_KERNEL } from '../src/emit/tfjs/residual-kernel.js';
import { REPO_ROOT } from '../src/fixtures.js';
import type { Graph } from '../src/ir/graph.js';
import { PACKAGED_PRESETS, PRESETS } from '../src/presets/index.js';
import { loadTfliteFile } from '../src/tflite/reader.js';
import { mulberry32 } from '../src/util/random.js';

function input(n: number, h: number, w: number, seed: number): tf.Tensor {
  const rand = mulberry32(seed);
  const data = new Float32Array(n * h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
  return tf.tensor4d(data, [n, h, w, 3]);
}

const nodesOf = (a: TfjsArtifacts): TfjsNode[] => a.modelJson.modelTopology.node as unknown as TfjsNode[];

beforeAll(async () => {
  // Points tfjs-backend-wasm (registered by importing the backend module) at its binaries on disk.
  expect((await tfjsWasmBackend.availability()).available).toBe(true);
});

for (const presetName of PACKAGED_PRESETS) {
  const preset = PRESETS[presetName];
  describe(`lean tfjs runner: ${presetName}`, () => {
    let graph: Graph;
    let art: TfjsArtifacts;
    const models = new Map<string, GraphModel>();
    const plans = new Map<string, TfjsPlan>(); // '<backend>' (engine calls) and '<backend>/direct'

    beforeAll(async () => {
      graph = await loadTfliteFile(path.join(REPO_ROOT, 'node_modules', '@mediapipe', 'face_detection', preset.source.fileName));
      art = emitTfjs(graph, preset, { weightDtype: 'float16', toolkitVersion: '0.0.0-test' });
      for (const backend of ['wasm', 'cpu']) {
        expect(await tf.setBackend(backend)).toBe(true);
        const model = await loadGraphModel(tfjsMemoryHandler(art.modelJson, art.weights));
        for (const direct of [false, true]) {
          const plan = planTfjsGraph(tf, art.modelJson.modelTopology as never, model.weights, INPUT_NAME, OUTPUT_NAMES, { direct });
          if ('unsupported' in plan) throw new Error(plan.unsupported);
          expect(plan.direct).toBe(direct);
          plans.set(direct ? `${backend}/direct` : backend, plan);
        }
        models.set(backend, model);
      }
    }, 120_000);

    afterAll(async () => {
      for (const [backend, model] of models) {
        await tf.setBackend(backend);
        model.dispose();
      }
    });

    for (const [backend, mode] of [['wasm', ''], ['wasm', '/direct'], ['cpu', ''], ['cpu', '/direct']]) {
      it(`gives exactly GraphModel.execute's outputs on tfjs-${backend}${mode ? ' with direct kernel calls' : ''} (batches 1 and 2), leaving no tensor behind`, async () => {
        await tf.setBackend(backend!);
        for (const n of backend === 'cpu' ? [1] : [1, 2]) {
          const x = input(n, preset.inputHeight, preset.inputWidth, 7 + n);
          const before = tf.memory().numTensors;
          const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
          const ours = plans.get(`${backend}${mode}`)!.execute(x);
          const theirs = models.get(backend!)!.execute({ [INPUT_NAME]: x }, [...OUTPUT_NAMES]) as tf.Tensor[];
          expect(ours.map((t) => t.shape)).toEqual(theirs.map((t) => t.shape));
          expect(ours[0]!.shape).toEqual([n, preset.decode.numBoxes, preset.decode.numCoords]);
          for (let k = 0; k < ours.length; k++) expect(Array.from(ours[k]!.dataSync())).toEqual(Array.from(theirs[k]!.dataSync()));
          for (const t of [...ours, ...theirs]) t.dispose();
          expect(tf.memory().numTensors).toBe(before);
          // No buffer left in the backend either (direct calls keep intermediates out of the engine's count).
          expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
          x.dispose();
        }
      }, 120_000);
    }

    it('on tfjs-wasm, the plan with the fused residual kernel gives GraphModel.execute\'s outputs (up to the sign of zero)', async () => {
      await tf.setBackend('wasm');
      registerResidualReluKernel(tf);
      const plan = planTfjsGraph(tf, art.modelJson.modelTopology as never, models.get('wasm')!.weights, INPUT_NAME, OUTPUT_NAMES, { fuseResiduals: true, direct: true });
      if ('unsupported' in plan) throw new Error(plan.unsupported);
      expect(plan.direct).toBe(true);
      // Every AddV2 feeding only a Relu is fused (short_range: all 16 BlazeBlocks, 11 of them with a channel Pad).
      const nodes = nodesOf(art);
      const addRelu = nodes.filter((n) => n.op === 'Relu' && nodes.find((m) => m.name === n.input![0])?.op === 'AddV2').length;
      expect(plan.residualKernels).toBe(addRelu);
      if (presetName === 'short_range') expect([plan.residualKernels, plan.kernels]).toEqual([16, 89 - 16 - 11]);
      for (const n of [1, 3]) {
        const x = input(n, preset.inputHeight, preset.inputWidth, 40 + n);
        const before = tf.memory().numTensors;
        const ours = plan.execute(x);
        const theirs = models.get('wasm')!.execute({ [INPUT_NAME]: x }, [...OUTPUT_NAMES]) as tf.Tensor[];
        for (let k = 0; k < ours.length; k++) {
          const [a, b] = [ours[k]!.dataSync(), theirs[k]!.dataSync()];
          expect(a.length).toBe(b.length);
          expect(a.every((v, i) => v === b[i])).toBe(true);
        }
        for (const t of [...ours, ...theirs, x]) t.dispose();
        expect(tf.memory().numTensors).toBe(before - 1);
      }
    }, 120_000);

    it('folds every standalone Relu that follows a biased conv into the conv', () => {
      const nodes = nodesOf(art);
      const folds = findReluFolds(graph);
      expect(folds.size).toBe(({ short_range: 1, full_range: 27, full_range_sparse: 0 } as Record<string, number>)[presetName]);
      for (const conv of folds.keys()) {
        const node = nodes.find((n) => n.name.startsWith(`op${conv}/`) && /Conv/.test(n.op));
        const fused = ((node?.attr?.fused_ops as { list: { s: string[] } }).list.s ?? []).map((b) => atob(b));
        expect(fused).toEqual(['BiasAdd', 'Relu']);
      }
      // No Relu node reads a conv node any more: each such pair became one fused conv.
      const byName = new Map(nodes.map((n) => [n.name, n]));
      const convRelu = nodes.filter((n) => n.op === 'Relu' && /Conv/.test(byName.get(n.input![0]!)?.op ?? ''));
      expect(convRelu).toEqual([]);
    });
  });
}

describe('lean tfjs runner: graphs it does not plan', () => {
  const weights = {} as Record<string, tf.Tensor[]>;
  it('names an unknown op, a missing node and a foreign placeholder instead of guessing', () => {
    const plan = (node: TfjsNode[]) => planTfjsGraph(tf, { node }, weights, 'input', ['out']);
    expect(plan([{ name: 'input', op: 'Placeholder' }, { name: 'out', op: 'Erf', input: ['input'] }])).toEqual({ unsupported: "op Erf (node 'out') is not planned" });
    expect(plan([{ name: 'out', op: 'Relu', input: ['nowhere'] }])).toEqual({ unsupported: "no node named 'nowhere'" });
    expect(plan([{ name: 'other', op: 'Placeholder' }, { name: 'out', op: 'Relu', input: ['other'] }])).toEqual({ unsupported: "placeholder 'other' is not the input 'input'" });
    expect(plan([{ name: 'input', op: 'Placeholder' }, { name: 'out', op: 'Relu', input: ['input:1'] }])).toEqual({ unsupported: "input 'input:1' is not output 0 of a node" });
    expect(plan([{ name: 'input', op: 'Placeholder' }, { name: 'a', op: 'Relu', input: ['out'] }, { name: 'out', op: 'Relu', input: ['a'] }])).toEqual({ unsupported: "the graph has a cycle through 'out'" });
  });

  it('disposes every intermediate when a kernel fails mid-run', async () => {
    await tf.setBackend('cpu');
    const b = tf.tensor1d([1, 2, 3]);
    const plan = planTfjsGraph(
      tf,
      { node: [{ name: 'input', op: 'Placeholder' }, { name: 'b', op: 'Const' }, { name: 'r', op: 'Relu', input: ['input'] }, { name: 'out', op: 'AddV2', input: ['r', 'b'] }] },
      { b: [b] },
      'input',
      ['out'],
    );
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    const direct = planTfjsGraph(
      tf,
      { node: [{ name: 'input', op: 'Placeholder' }, { name: 'b', op: 'Const' }, { name: 'r', op: 'Relu', input: ['input'] }, { name: 'out', op: 'AddV2', input: ['r', 'b'] }] },
      { b: [b] },
      'input',
      ['out'],
      { direct: true },
    );
    if ('unsupported' in direct) throw new Error(direct.unsupported);
    const x = tf.tensor1d([1, 2]); // [2] + [3] cannot broadcast: the Add kernel throws after Relu made a tensor
    const before = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    expect(() => plan.execute(x)).toThrow(/broadcast/);
    expect(() => direct.execute(x)).toThrow(/broadcast/);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    // The direct plan's Relu output lived only in the backend: its buffer must be gone too.
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(buffers);
    x.dispose();
    b.dispose();
  });

  it('stays on GraphModel.execute when the load-time check finds execute failing or the plan disagreeing', async () => {
    await tf.setBackend('cpu');
    const topology = { node: [{ name: 'input', op: 'Placeholder' }, { name: 'out', op: 'Relu', input: ['input'] }] };
    const failing = { weights: {}, execute: () => { throw new Error('no such op'); } };
    expect(planAndCheck(tf, failing, topology, 'input', ['out'], [1, 2])).toEqual({ plan: null, note: 'runs through GraphModel.execute (it fails on a test image: no such op)' });
    const lying = { weights: {}, execute: (inputs: Record<string, tf.Tensor>) => tf.neg(inputs.input!) };
    expect(planAndCheck(tf, lying, topology, 'input', ['out'], [1, 2]).plan).toBeNull();
    const honest = { weights: {}, execute: (inputs: Record<string, tf.Tensor>) => tf.relu(inputs.input!) };
    const before = tf.memory().numTensors;
    const checked = planAndCheck(tf, honest, topology, 'input', ['out'], [1, 2]);
    expect(checked.plan?.kernels).toBe(1);
    expect(checked.note).toBe('runs as a fixed sequence of 1 direct kernel calls, checked against GraphModel.execute at load');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the tfjs-wasm backend runs the packaged model through the checked plan', async () => {
    const { loadModelSource } = await import('../src/model-source.js');
    const backend = await tfjsWasmBackend.load(await loadModelSource(PRESETS.short_range));
    try {
      expect(backend.notes.join('\n')).toMatch(/fixed sequence of 62 direct kernel calls \(16 of them the fused residual Relu kernel\), checked against GraphModel.execute at load/);
    } finally {
      await backend.dispose();
    }
  });

  it('returns the input as a copy when an output is the input itself (the caller may dispose it)', async () => {
    await tf.setBackend('cpu');
    const plan = planTfjsGraph(tf, { node: [{ name: 'input', op: 'Placeholder' }, { name: 'out', op: 'Identity', input: ['input'] }] }, weights, 'input', ['out', 'out']);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    const x = tf.tensor1d([1, 2]);
    const [a, b] = plan.execute(x);
    expect(a).not.toBe(x);
    expect(b).not.toBe(a);
    a!.dispose();
    b!.dispose();
    expect(Array.from(x.dataSync())).toEqual([1, 2]);
    x.dispose();
  });
});

describe('the fused residual kernel on tfjs-wasm', () => {
  it('computes relu(conv + skip padded with zero channels) for aligned and odd channel counts, SIMD body and scalar tails', async () => {
    await tf.setBackend('wasm');
    registerResidualReluKernel(tf);
    for (const [pixels, cin, cout] of [[64, 24, 28], [9, 42, 48], [5, 3, 5], [4, 8, 8], [2, 0, 3], [1, 96, 96]] as const) {
      const conv = tf.randomNormal([1, pixels, 1, cout], 0, 1, 'float32', pixels);
      const skip = tf.randomNormal([1, pixels, 1, cin], 0, 1, 'float32', cin + 1);
      const got = tf.engine().runKernel(RESIDUAL_RELU_KERNEL, { conv, skip }, {}) as tf.Tensor;
      const want = tf.relu(tf.add(conv, tf.pad(skip, [[0, 0], [0, 0], [0, 0], [0, cout - cin]])));
      expect(got.shape).toEqual([1, pixels, 1, cout]);
      const [a, b] = [got.dataSync(), want.dataSync()];
      expect(a.every((v, i) => v === b[i])).toBe(true);
      // The inputs are read, never written.
      expect(Array.from(conv.dataSync()).some((v) => v < 0)).toBe(true);
      tf.dispose([conv, skip, got, want]);
    }
  });

  it('refuses a skip that does not fit instead of reading past it', async () => {
    await tf.setBackend('wasm');
    const conv = tf.zeros([1, 4, 4, 8]);
    for (const skip of [tf.zeros([1, 4, 4, 9]), tf.zeros([1, 4, 2, 8]), tf.zeros([8])]) {
      expect(() => tf.engine().runKernel(RESIDUAL_RELU_KERNEL, { conv, skip }, {})).toThrow(/does not fit conv \[1,4,4,8\]/);
      skip.dispose();
    }
    conv.dispose();
  });
});

// npm run bench:tfjs [-- --presets a,b] [--rounds 300]
//
// The tfjs fast path side by side in ONE process, batch 1, contenders interleaved in a new random order
// every round: the official TFLite runtime on the .tflite (the yardstick), the tfjs-wasm backend as it
// ships, the same model through tfjs-converter's GraphModel.execute, and the backend's plan in its
// variants (engine calls; + the fused residual kernel; + direct kernel calls). Prints medians, 10th
// percentiles and fastest runs, each as a ratio to TFLite's, after checking every variant gives
// GraphModel.execute's outputs and leaks no tensor.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { getBackendFactory } from '../src/backends/index.js';
import { INPUT_NAME, OUTPUT_NAMES } from '../src/emit/tfjs/emit.js';
import { tfjsFileHandler } from '../src/emit/tfjs/io.js';
import { registerResidualReluKernel } from '../src/emit/tfjs/residual-kernel.js';
import { planTfjsGraph, type PlanOptions } from '../src/emit/tfjs/runner.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { mulberry32 } from '../src/util/random.js';

const { values } = parseArgs({ options: { presets: { type: 'string', default: 'short_range,full_range,full_range_sparse' }, rounds: { type: 'string', default: '300' } } });
const ROUNDS = Number(values.rounds);
const WARMUP = 20;

for (const name of values.presets!.split(',')) {
  const preset = getPreset(name);
  const source = await loadModelSource(preset);
  const tflite = await (await getBackendFactory('tflite')).load(source);
  const backend = await (await getBackendFactory('tfjs-wasm')).load(source);
  await tf.setBackend('wasm');
  registerResidualReluKernel(tf);
  const dir = path.join(source.artifactsDir, 'tfjs');
  const model = await loadGraphModel(tfjsFileHandler(dir));
  const topology = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')).modelTopology;
  const plan = (options: PlanOptions) => {
    const p = planTfjsGraph(tf, topology, model.weights, INPUT_NAME, OUTPUT_NAMES, options);
    if ('unsupported' in p) throw new Error(`${name}: ${p.unsupported}`);
    return p;
  };
  const plans = { 'plan, engine calls': plan({}), 'plan + residual kernel': plan({ fuseResiduals: true }), 'plan + residual + direct': plan({ fuseResiduals: true, direct: true }) };
  const { inputHeight: h, inputWidth: w } = preset;
  const rand = mulberry32(1);
  const data = Float32Array.from({ length: h * w * 3 }, () => rand() * 2 - 1);
  const shape: [number, number, number, number] = [1, h, w, 3];

  // Every variant gives GraphModel.execute's outputs (up to the sign of zero) before it is timed.
  const x0 = tf.tensor4d(data, shape);
  const ref = (model.execute({ [INPUT_NAME]: x0 }, [...OUTPUT_NAMES]) as tf.Tensor[]).map((t) => t.dataSync());
  for (const [label, p] of Object.entries(plans)) {
    const outs = p.execute(x0);
    if (!outs.every((t, k) => t.dataSync().every((v, i) => v === ref[k]![i]))) throw new Error(`${name}: ${label} differs from GraphModel.execute`);
    tf.dispose(outs);
  }
  x0.dispose();

  const viaPlan = (p: { execute(x: tf.Tensor): tf.Tensor[] }) => async () => {
    const x = tf.tensor4d(data, shape);
    const outs = p.execute(x);
    for (const t of outs) t.dataSync();
    tf.dispose([x, ...outs]);
  };
  const contenders: Record<string, () => Promise<void>> = {
    'TFLite runtime (wasm, XNNPACK, 1 thread)': async () => void (await tflite.run({ data, shape })),
    'tfjs-wasm backend (as shipped)': async () => void (await backend.run({ data, shape })),
    'GraphModel.execute': async () => {
      const x = tf.tensor4d(data, shape);
      const outs = model.execute({ [INPUT_NAME]: x }, [...OUTPUT_NAMES]) as tf.Tensor[];
      for (const t of outs) t.dataSync();
      tf.dispose([x, ...outs]);
    },
    ...Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, viaPlan(p)])),
  };
  const keys = Object.keys(contenders);
  const times = new Map(keys.map((k) => [k, [] as number[]]));
  const tensors = tf.memory().numTensors;
  const shuffle = mulberry32(7);
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const order = keys.map((k) => [shuffle(), k] as const).sort((a, b) => a[0] - b[0]).map(([, k]) => k);
    for (const k of order) {
      const t0 = performance.now();
      await contenders[k]!();
      if (r >= WARMUP) times.get(k)!.push(performance.now() - t0);
    }
  }
  if (tf.memory().numTensors !== tensors) throw new Error(`${name}: ${tf.memory().numTensors - tensors} tensors leaked`);
  const q = (v: number[], f: number) => [...v].sort((a, b) => a - b)[Math.floor(f * (v.length - 1))]!;
  const base = times.get(keys[0]!)!;
  console.log(`\n${name}: batch 1, ${ROUNDS} interleaved rounds after ${WARMUP} warm-up (kernels per call: ${Object.entries(plans).map(([k, p]) => `${k} ${p.kernels}`).join(', ')})`);
  console.log('| contender | median ms | p10 ms | fastest ms | time / TFLite (median; p10; fastest) |\n| --- | --- | --- | --- | --- |');
  for (const k of keys) {
    const v = times.get(k)!;
    const ratio = (f: number) => (q(v, f) / q(base, f)).toFixed(2);
    console.log(`| ${k} | ${q(v, 0.5).toFixed(3)} | ${q(v, 0.1).toFixed(3)} | ${q(v, 0).toFixed(3)} | ${ratio(0.5)}; ${ratio(0.1)}; ${ratio(0)} |`);
  }
  await tflite.dispose();
  await backend.dispose();
  model.dispose();
}

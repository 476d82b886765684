// Two additions to npm run bench for the tfjs fast path (issue 13, item 3):
//  - a contender running our tfjs model the way tfjs users do by default, GraphModel.execute, beside the
//    backend's lean plan (src/emit/tfjs/runner.ts), so the executor's share is measured in the same run;
//  - the TFLite runtime's own per-op profile (its XNNPACK delegate's internal profiler), so tfjs-wasm's
//    per-kernel times have a counterpart op by op.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { getBackendFactory } from '../../src/backends/index.js';
import { createTfliteRunner } from '../../src/backends/tflite-node-shim.js';
import { INPUT_NAME, OUTPUT_NAMES } from '../../src/emit/tfjs/emit.js';
import { tfjsFileHandler } from '../../src/emit/tfjs/io.js';
import { registerResidualReluKernel } from '../../src/emit/tfjs/residual-kernel.js';
import { planTfjsGraph, withTopologyCapture } from '../../src/emit/tfjs/runner.js';
import type { ModelSource } from '../../src/backends/backend.js';

export interface ExtraContender {
  readonly key: string;
  readonly label: string;
  readonly threads: number | null;
  rssDeltaMB: number;
  run(n: number): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Our tfjs model on tfjs-backend-wasm through tfjs-converter's GraphModel.execute (no lean plan), or
 * (`engine-plan`) through the backend's plan with every kernel called via tf.engine().runKernel, which
 * tf.profile can see (the backend's direct kernel calls are invisible to it).
 */
export async function tfjsExecuteContender(source: ModelSource, input: (n: number) => Float32Array, mode: 'execute' | 'engine-plan' = 'execute'): Promise<ExtraContender | { unavailable: string }> {
  const factory = await getBackendFactory('tfjs-wasm');
  const avail = await factory.availability(); // also points tfjs-backend-wasm at its binaries on disk
  if (!avail.available) return { unavailable: avail.reason };
  if (!(await tf.setBackend('wasm'))) return { unavailable: 'tfjs wasm backend failed to initialize' };
  const before = process.memoryUsage().rss;
  const captured = withTopologyCapture(tfjsFileHandler(path.join(source.artifactsDir, 'tfjs')));
  const model = await loadGraphModel(captured.handler);
  registerResidualReluKernel(tf);
  const plan = mode === 'engine-plan' ? planTfjsGraph(tf, captured.topology(), model.weights, INPUT_NAME, OUTPUT_NAMES, { fuseResiduals: true }) : null;
  if (plan && 'unsupported' in plan) return { unavailable: plan.unsupported };
  const { inputHeight: h, inputWidth: w } = source.preset;
  const inputs = new Map<number, Float32Array>();
  return {
    key: mode === 'execute' ? 'tfjs-wasm-execute' : 'tfjs-wasm-engine-plan',
    label: mode === 'execute' ? 'tfjs-backend-wasm (XNNPACK, 1 thread), our tfjs model through GraphModel.execute (no lean plan)' : 'tfjs-backend-wasm, the lean plan through tf.engine().runKernel',
    threads: 1,
    rssDeltaMB: Math.round(((process.memoryUsage().rss - before) / 2 ** 20) * 10) / 10,
    async run(n) {
      if (tf.engine().backendName !== 'wasm') await tf.setBackend('wasm');
      let data = inputs.get(n);
      if (!data) inputs.set(n, (data = input(n)));
      const x = tf.tensor4d(data, [n, h, w, 3]);
      const outs = plan ? plan.execute(x) : (model.execute({ [INPUT_NAME]: x }, [...OUTPUT_NAMES]) as tf.Tensor[]);
      await Promise.all(outs.map((t) => t.data()));
      tf.dispose([x, ...outs]);
    },
    async dispose() {
      if (tf.engine().backendName !== 'wasm') await tf.setBackend('wasm');
      model.dispose();
    },
  };
}

export interface TfliteOpProfile {
  runs: number;
  ops: number;
  /** Summed average ms per run, by XNNPACK operator type ('first conv' apart: the 5x5 stride-2 conv on 3 channels). */
  byOpMs: Record<string, number>;
  totalMs: number;
}

/** The TFLite runtime's per-op times from its XNNPACK delegate's internal profiler (1 thread). */
export async function profileTfliteOps(source: ModelSource, data: Float32Array, runs: number): Promise<TfliteOpProfile> {
  const runner = await createTfliteRunner(source.tfliteBytes, { numThreads: 1, enableProfiling: true, maxProfilingBufferEntries: 100_000 } as Parameters<typeof createTfliteRunner>[1]);
  try {
    runner.getInputs()[0]!.data().set(data);
    for (let i = 0; i < runs; i++) runner.infer();
    const summary = (runner as unknown as { getProfilingSummary(): string }).getProfilingSummary();
    const internal = summary.slice(summary.indexOf('Delegate internal'));
    const runOrder = internal.slice(0, internal.indexOf('Top by Computation'));
    const byOp = new Map<string, number>();
    let ops = 0;
    // "DelegateOpInvoke  <first ms>  <avg ms>  <%>  <cdf%>  <mem KB>  <times>  Delegate/<op type>:<index>"
    for (const line of runOrder.split('\n')) {
      const m = /DelegateOpInvoke\s+[\d.]+\s+([\d.]+)\s+\S+\s+\S+\s+\S+\s+\d+\s+Delegate\/(.*):(\d+)$/.exec(line.trim());
      if (!m) continue;
      ops++;
      const key = Number(m[3]) === 0 ? 'first conv' : m[2]!;
      byOp.set(key, (byOp.get(key) ?? 0) + Number(m[1]));
    }
    const round = (v: number) => Math.round(v * 1000) / 1000;
    const sorted = [...byOp].sort((a, b) => b[1] - a[1]);
    return { runs, ops, byOpMs: Object.fromEntries(sorted.map(([k, v]) => [k, round(v)])), totalMs: round(sorted.reduce((a, [, v]) => a + v, 0)) };
  } finally {
    runner.cleanUp();
  }
}

// "What limits it" for onnxruntime-node on short_range: the graph ORT runs after its rewrite, the fixed
// cost of one session.run() call, and two lower bounds (the Conv kernels alone; the multiply-adds ORT
// executes at the FMA peak), each turned into the best ratio against the TFLite runtime it allows.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { valueInfo } from '../../src/emit/onnx/emit.js';
import { encodeModel, ONNX_SCHEMA_PATH } from '../../src/emit/onnx/proto.js';

/** Node types of an ONNX file (ORT's optimized graph: NCHWc Conv, ReorderInput/Output, ...). */
export async function optimizedNodeCounts(file: string): Promise<Record<string, number>> {
  const root = await new protobuf.Root().load(ONNX_SCHEMA_PATH, { keepCase: true });
  const type = root.lookupType('onnx.ModelProto');
  const model = type.toObject(type.decode(await readFile(file))) as { graph: { node: { op_type: string }[] } };
  const counts: Record<string, number> = {};
  for (const n of model.graph.node) counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
  return counts;
}

/** Median and fastest session.run() of a one-Relu model on an input of `shape` (us): the binding's per-call cost. */
export async function measureRunOverhead(runtime: typeof ort, shape: readonly number[], options: Record<string, unknown>, runs = 2000): Promise<{ median: number; min: number }> {
  const model = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'bench',
    producer_version: '0',
    doc_string: '',
    graph: {
      name: 'relu',
      node: [{ name: 'relu', op_type: 'Relu', input: ['x'], output: ['y'], attribute: [] }],
      initializer: [],
      input: [valueInfo('x', [...shape])],
      output: [valueInfo('y', [...shape])],
    },
    metadata_props: [],
  });
  const session = await runtime.InferenceSession.create(model, options);
  const x = new runtime.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), [...shape]);
  const times: number[] = [];
  try {
    for (let i = 0; i < runs + 100; i++) {
      const t = performance.now();
      const out = await session.run({ x });
      if (i >= 100) times.push((performance.now() - t) * 1000);
      out.y!.dispose();
    }
  } finally {
    await session.release();
  }
  times.sort((a, b) => a - b);
  return { median: Math.round(times[times.length >> 1]!), min: Math.round(times[0]!) };
}

interface ProfileEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** Median and fastest, over the profiled runs, of each run's wall time, kernel time and Conv kernel time (us). */
export function perRunTimes(events: readonly ProfileEvent[]): Record<'run' | 'kernels' | 'conv', { median: number; min: number }> {
  const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const kernels = runs.map(() => 0);
  const conv = runs.map(() => 0);
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    // The run whose [ts, ts + dur] holds this kernel (runs do not overlap: one session, awaited calls).
    let lo = 0;
    let hi = runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[mid]!.ts <= e.ts) lo = mid;
      else hi = mid - 1;
    }
    const run = runs[lo];
    if (!run || e.ts < run.ts || e.ts > run.ts + run.dur) continue;
    kernels[lo]! += e.dur;
    if (e.args?.op_name === 'Conv') conv[lo]! += e.dur;
  }
  const summary = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b);
    return { median: Math.round(sorted[sorted.length >> 1] ?? 0), min: Math.round(sorted[0] ?? 0) };
  };
  return { run: summary(runs.map((r) => r.dur)), kernels: summary(kernels), conv: summary(conv) };
}

interface Latency {
  medianMs: number;
  minMs: number;
}

interface Limits {
  perRun: ReturnType<typeof perRunTimes>;
  nodes: number;
  optimizedNodes: Record<string, number>;
  runOverheadUs: { median: number; min: number };
  ortMacsPerImage?: number;
  irMacsPerImage?: number;
}

const r = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

/** The "what limits it" section of report.md. `peak1` is the 1-thread FMA peak in GFLOP/s. */
export function limitsMarkdown(p: Limits, ms: { tflite?: Latency; ours1?: Latency; ours2?: Latency }, peak1: number | null): string[] {
  const lines = ['## What limits short_range on onnxruntime-node (batch 1)', ''];
  const t = ms.tflite;
  // Bounds as "median; fastest", each against the TFLite runtime's median and fastest run.
  const bound = (median: number, min: number): string => (t ? `${r((t.medianMs * 1000) / median)}x; ${r((t.minMs * 1000) / min)}x TFLite (median; fastest)` : 'n/a');
  if (t && ms.ours1) {
    lines.push(`- Goal: 4x the TFLite runtime = ${r(t.medianMs / 4, 3)} ms on its median, ${r(t.minMs / 4, 3)} ms on its fastest run; ours at 1 thread: ${ms.ours1.medianMs} ms median (${r(t.medianMs / ms.ours1.medianMs)}x), ${ms.ours1.minMs} ms fastest (${r(t.minMs / ms.ours1.minMs)}x).`);
  }
  lines.push(`- The graph ORT runs (after its NCHWc rewrite): ${p.nodes} nodes, ${Object.entries(p.optimizedNodes).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  const { run, kernels, conv } = p.perRun;
  lines.push(
    `- Profiled runs (median; fastest): ${run.median}; ${run.min} us per run, kernels ${kernels.median}; ${kernels.min} us, of which Conv ${conv.median}; ${conv.min} us; between kernels about ${run.median - kernels.median} us (${r((100 * (run.median - kernels.median)) / run.median, 1)} %). onnxruntime-node's fixed cost of one session.run() (a one-Relu model on the same input): ${p.runOverheadUs.median} us median, ${p.runOverheadUs.min} us fastest.`,
  );
  lines.push(`- Lower bound 1, this graph on ORT's kernels: with every other node and all time between kernels gone, the Conv kernels alone (${conv.median}; ${conv.min} us per run) allow at most ${bound(conv.median, conv.min)}.`);
  if (p.ortMacsPerImage && p.irMacsPerImage && peak1) {
    const gmacs = peak1 / 2;
    const atPeak = p.ortMacsPerImage / (gmacs * 1e3);
    const irAtPeak = p.irMacsPerImage / (gmacs * 1e3);
    lines.push(
      `- Lower bound 2, arithmetic: ORT executes ${r(p.ortMacsPerImage / 1e6)} M multiply-adds per image (the IR has ${r(p.irMacsPerImage / 1e6)} M; channels are carried at multiples of ORT's 16-channel NCHWc block, and ORT rounds conv outputs to the block). In the fastest profiled run the Conv kernels ran them at ${r(p.ortMacsPerImage / (conv.min * 1e3), 1)} GMAC/s = ${r((100 * p.ortMacsPerImage) / (conv.min * 1e3) / gmacs, 0)} % of the 1-core FMA peak (${peak1} GFLOP/s = ${r(gmacs, 1)} GMAC/s). At 100 % of that peak they would take ${r(atPeak, 0)} us (at most ${bound(atPeak, atPeak)}); the IR's own multiply-adds at the peak ${r(irAtPeak, 0)} us (${bound(irAtPeak, irAtPeak)}).`,
    );
  }
  if (ms.ours1 && ms.ours2) {
    lines.push(
      `- 2 threads, spinning off: ${ms.ours2.medianMs} ms median, ${ms.ours2.minMs} ms fastest, against ${ms.ours1.medianMs} / ${ms.ours1.minMs} ms at 1 thread. At batch 1 every kernel is split across the pool, and a pool that may not spin must wake the second thread for each of the ${p.nodes} nodes; the convolutions are too small for that to pay (batch 8 and 32 do scale).`,
    );
  }
  lines.push('');
  return lines;
}

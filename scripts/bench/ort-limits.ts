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

interface Latency {
  medianMs: number;
  minMs: number;
}

interface Limits {
  runUsPerRun: number;
  kernelUsPerRun: number;
  convUsPerRun: number;
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
  const tflite = ms.tflite?.medianMs;
  const bound = (us: number): string => (tflite ? `${r((tflite * 1000) / us)}x TFLite` : 'n/a');
  if (tflite && ms.ours1) {
    lines.push(`- Goal: 4x the TFLite runtime = ${r(tflite / 4, 3)} ms (TFLite median ${tflite} ms); ours at 1 thread: ${ms.ours1.medianMs} ms median (${r(tflite / ms.ours1.medianMs)}x), ${ms.ours1.minMs} ms fastest.`);
  }
  lines.push(`- The graph ORT runs (after its NCHWc rewrite): ${p.nodes} nodes, ${Object.entries(p.optimizedNodes).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  const between = p.runUsPerRun - p.kernelUsPerRun;
  lines.push(
    `- One profiled run: ${p.runUsPerRun} us, of which kernels ${p.kernelUsPerRun} us (Conv ${p.convUsPerRun} us = ${r((100 * p.convUsPerRun) / p.kernelUsPerRun, 1)} %) and ${between} us (${r((100 * between) / p.runUsPerRun, 1)} %) between kernels; onnxruntime-node's fixed cost of one session.run() (a one-Relu model on the same input): ${p.runOverheadUs.median} us median, ${p.runOverheadUs.min} us fastest.`,
  );
  lines.push(`- Lower bound 1, this graph on ORT's kernels: the Conv kernels alone take ${p.convUsPerRun} us per run (profiled), so even with every other node and all time between kernels gone the ratio is at most ${bound(p.convUsPerRun)}.`);
  if (p.ortMacsPerImage && p.irMacsPerImage && peak1) {
    const gmacs = peak1 / 2;
    const atPeak = p.ortMacsPerImage / (gmacs * 1e3);
    const irAtPeak = p.irMacsPerImage / (gmacs * 1e3);
    lines.push(
      `- Lower bound 2, arithmetic: ORT executes ${r(p.ortMacsPerImage / 1e6)} M multiply-adds per image (the IR has ${r(p.irMacsPerImage / 1e6)} M; channels are carried at multiples of ORT's 16-channel NCHWc block, and ORT rounds conv outputs to the block). The Conv kernels run them at ${r(p.ortMacsPerImage / (p.convUsPerRun * 1e3), 1)} GMAC/s = ${r((100 * p.ortMacsPerImage) / (p.convUsPerRun * 1e3) / gmacs, 0)} % of the 1-core FMA peak (${peak1} GFLOP/s = ${r(gmacs, 1)} GMAC/s). At 100 % of that peak they would take ${r(atPeak, 0)} us (at most ${bound(atPeak)}); the IR's own multiply-adds at the peak ${r(irAtPeak, 0)} us (${bound(irAtPeak)}).`,
    );
  }
  if (ms.ours1 && ms.ours2) {
    lines.push(
      `- 2 threads, spinning off: ${ms.ours2.medianMs} ms median vs ${ms.ours1.medianMs} ms at 1 thread. At batch 1 every kernel is split across the pool, and a pool that may not spin must wake the second thread for each of the ${p.nodes} nodes; the convolutions are too small for that to pay (batch 8 and 32 do scale).`,
    );
  }
  lines.push('');
  return lines;
}

// npm run bench [-- --quick] [--presets a,b] [--out dir] [--no-detect]
//
// Every preset on every runtime, measured side by side in ONE run so ratios are meaningful on a busy
// machine: contenders are interleaved round-robin (the order rotates each round), each figure is a
// median over many runs, and everything is printed beside the official TFLite runtime on the original
// .tflite and beside onnxruntime-node on torch.onnx.export's graph of the same weights (when Python +
// torch are installed; the seed's module from python/blazeface_torch.py is exported in a temp dir).
//
// Per preset: batch-1 latency (median, p90), batch 1/8/32 throughput, achieved GFLOP/s (multiply-adds
// counted from the IR), CPU time per frame at 30 frames/s (process.cpuUsage over a paced loop) beside
// wall time, RSS growth per loaded runtime, and convert time. Also the machine's FP32 peak from a
// small FMA loop (scripts/bench/fma-peak.c, gcc -O3 -march=native), and the pipeline figures of
// scripts/bench-detect.ts, bench-preprocess.ts and bench-folder.ts (--no-detect skips those). Writes artifacts/bench/report.{json,md} (not part of the reproducible set).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import ort from 'onnxruntime-node';
import { getBackendFactory, type Backend, type BackendName } from '../src/backends/index.js';
import { ORT_NODE_DEFAULTS, ortNodeSessionOptions } from '../src/backends/onnxruntime-node.js';
import { convertPreset } from '../src/convert/convert.js';
import { buildInt8Model } from '../src/convert/int8.js';
import { buildOnnxModel, withFixedBatch } from '../src/emit/onnx/emit.js';
import { ONNX_FAST_PATH } from '../src/emit/onnx/lowerings.js';
import { encodeModel } from '../src/emit/onnx/proto.js';
import { REPO_ROOT } from '../src/fixtures.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import type { Preset } from '../src/presets/types.js';
import { mulberry32 } from '../src/util/random.js';
import { installedPackageVersion, TOOLKIT_VERSION } from '../src/version.js';
import { convMacs, ortConvMacs } from './bench/flops.js';
import { limitsMarkdown, measureRunOverhead, optimizedNodeCounts, perRunTimes } from './bench/ort-limits.js';
import { planChannelWidths } from '../src/emit/onnx/widths.js';
import { profileTfliteOps, tfjsExecuteContender, type TfliteOpProfile } from './bench/tfjs-extra.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    presets: { type: 'string', default: 'short_range,full_range,full_range_sparse' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'artifacts', 'bench') },
    'no-detect': { type: 'boolean', default: false },
  },
});
const QUICK = values.quick!;
const CFG = QUICK
  ? { warmup: 10, runs: 60, runs8: 8, runs32: 4, frames: 20, convertRepeats: 1, fmaRepeats: 30 }
  : { warmup: 30, runs: 300, runs8: 30, runs32: 12, frames: 60, convertRepeats: 3, fmaRepeats: 60 };
const BATCHES = [1, 8, 32] as const;
const log = (line: string): void => console.error(line);

// ---------------------------------------------------------------------------------------------------
// statistics

interface Stats {
  median: number;
  p90: number;
  min: number;
  n: number;
}
function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  return { median: q(0.5), p90: q(0.9), min: s[0]!, n: s.length };
}
const round = (v: number, d = 3): number => Number(v.toFixed(d));

// ---------------------------------------------------------------------------------------------------
// the machine's FP32 peak

interface Peak {
  method: string;
  lanes: number | null;
  measured: Record<string, number>;
  twoCorePeakGflops: number | null;
  note: string;
}
async function measurePeak(tmp: string): Promise<Peak> {
  const src = path.join(REPO_ROOT, 'scripts', 'bench', 'fma-peak.c');
  const exe = path.join(tmp, 'fma-peak');
  const method = 'scripts/bench/fma-peak.c: 12 independent FMA chains on the widest vector, gcc -O3 -march=native, best of many short runs, 1 and 2 pthreads';
  try {
    execFileSync('gcc', ['-O3', '-march=native', '-pthread', '-o', exe, src], { stdio: 'pipe' });
  } catch (err) {
    return { method, lanes: null, measured: {}, twoCorePeakGflops: null, note: `gcc unavailable or failed: ${(err as Error).message.split('\n')[0]}` };
  }
  const out = execFileSync(exe, ['2', '1000000', String(CFG.fmaRepeats)], { encoding: 'utf8' });
  const lanes = Number(/lanes (\d+)/.exec(out)?.[1] ?? NaN);
  const measured: Record<string, number> = {};
  for (const m of out.matchAll(/^(\d+) ([\d.]+)$/gm)) measured[`${m[1]} thread(s)`] = Number(m[2]);
  const one = measured['1 thread(s)'] ?? 0;
  const two = measured['2 thread(s)'] ?? 0;
  // On a shared machine the 2-thread run rarely gets both cores at once; 2 x the single-core peak is
  // the hardware's 2-core peak (and the stricter denominator).
  return {
    method,
    lanes,
    measured,
    twoCorePeakGflops: round(Math.max(2 * one, two), 1),
    note: '2-core peak = max(2 x best 1-thread result, best 2-thread result)',
  };
}

// ---------------------------------------------------------------------------------------------------
// contenders: anything that runs a batch of N images

interface Contender {
  readonly key: string;
  readonly label: string;
  /** Intra-op threads used for inference (null: not configurable / single-threaded runtime). */
  readonly threads: number | null;
  /** true for the slow runtimes (plain-JS kernels): batch-1 latency only, a few runs. */
  readonly slow?: boolean;
  /** Set when the model only accepts this batch size. */
  readonly onlyBatch?: number;
  rssDeltaMB: number;
  run(n: number): Promise<void>;
  dispose(): Promise<void>;
}

function randomInput(n: number, h: number, w: number): Float32Array {
  const data = new Float32Array(n * h * w * 3);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return data;
}

async function withRss<T>(make: () => Promise<T>): Promise<{ value: T; rssDeltaMB: number }> {
  const before = process.memoryUsage().rss;
  const value = await make();
  return { value, rssDeltaMB: round((process.memoryUsage().rss - before) / 2 ** 20, 1) };
}

/** An onnxruntime-node session on raw bytes; `nchw` for torch's graph (input [N,3,H,W]). */
async function ortContender(key: string, label: string, bytes: Uint8Array, preset: Preset, options: Record<string, unknown>, threads: number | null, nchw = false, onlyBatch?: number): Promise<Contender> {
  const { value: session, rssDeltaMB } = await withRss(() => ort.InferenceSession.create(bytes, options));
  const { inputHeight: h, inputWidth: w } = preset;
  const feeds = new Map<number, ort.Tensor>();
  const input = session.inputNames[0]!;
  return {
    key,
    label,
    threads,
    rssDeltaMB,
    onlyBatch,
    async run(n) {
      let t = feeds.get(n);
      if (!t) feeds.set(n, (t = new ort.Tensor('float32', randomInput(n, h, w), nchw ? [n, 3, h, w] : [n, h, w, 3])));
      const out = await session.run({ [input]: t });
      for (const v of Object.values(out)) v.dispose();
    },
    dispose: () => session.release(),
  };
}

async function backendContender(name: BackendName, label: string, preset: Preset, threads: number | null, slow = false): Promise<Contender | { unavailable: string }> {
  const factory = await getBackendFactory(name);
  const avail = await factory.availability();
  if (!avail.available) return { unavailable: avail.reason };
  const source = await loadModelSource(preset);
  const { value: backend, rssDeltaMB } = await withRss<Backend>(() => factory.load(source));
  const { inputHeight: h, inputWidth: w } = preset;
  const batches = new Map<number, Float32Array>();
  return {
    key: name,
    label,
    threads,
    slow,
    rssDeltaMB,
    async run(n) {
      let data = batches.get(n);
      if (!data) batches.set(n, (data = randomInput(n, h, w)));
      await backend.run({ data, shape: [n, h, w, 3] });
    },
    dispose: () => backend.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------------
// torch.onnx.export of the seed's module

const PYTHONS = [process.env.BLAZEFACE_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
const EXPORT_PY = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from blazeface_torch import load_model
m, _ = load_model(sys.argv[2], sys.argv[3])
x = torch.zeros(1, 3, m.input_size, m.input_size)
torch.onnx.export(m, x, sys.argv[4], input_names=['input'], output_names=['regressors', 'classificators'],
                  opset_version=13, dynamic_axes={k: {0: 'N'} for k in ['input', 'regressors', 'classificators']})
print(torch.__version__)
`;
async function torchExport(preset: Preset, tmp: string): Promise<{ bytes: Uint8Array; version: string; ms: number } | { unavailable: string }> {
  if (!preset.torchArchitecture) return { unavailable: `no PyTorch layout for ${preset.name}` };
  const pth = path.join(REPO_ROOT, 'artifacts', preset.name, 'blazeface.pth');
  if (!existsSync(pth)) return { unavailable: `${pth} missing (npm run convert)` };
  const python = PYTHONS.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  if (!python) return { unavailable: 'no Python with torch (python3-torch)' };
  const script = path.join(tmp, 'export.py');
  const out = path.join(tmp, `${preset.name}.torch.onnx`);
  await writeFile(script, EXPORT_PY);
  const t = performance.now();
  const r = spawnSync(python, [script, path.join(REPO_ROOT, 'python'), pth, preset.torchArchitecture, out], { encoding: 'utf8' });
  if (r.status !== 0) return { unavailable: `torch.onnx.export failed: ${r.stderr.trim().split('\n').pop()}` };
  return { bytes: new Uint8Array(await readFile(out)), version: `torch ${r.stdout.trim()}`, ms: performance.now() - t };
}

// ---------------------------------------------------------------------------------------------------
// measurements

/**
 * Interleaved timing of `n`-image batches: every round runs each contender once, in a freshly shuffled
 * order (seeded), so no contender always follows the same one (a wasm runtime evicts the caches the
 * next contender would have found warm).
 */
async function interleaved(contenders: readonly Contender[], n: number, warmup: number, runs: number): Promise<Map<string, Stats>> {
  const samples = new Map(contenders.map((c) => [c.key, [] as number[]]));
  const rand = mulberry32(n * 7919 + contenders.length);
  const order = [...contenders];
  for (let r = 0; r < warmup + runs; r++) {
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    for (const c of order) {
      const t = performance.now();
      await c.run(n);
      if (r >= warmup) samples.get(c.key)!.push(performance.now() - t);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return new Map([...samples].map(([k, v]) => [k, stats(v)]));
}

/** 30 frames/s: one batch-1 inference per 33.3 ms; CPU time (user+system, whole process) per frame. */
async function pacedCpu(c: Contender, frames: number): Promise<{ cpuMsPerFrame: number; wallMsPerFrame: number }> {
  const period = 1000 / 30;
  for (let i = 0; i < 5; i++) await c.run(1);
  const walls: number[] = [];
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (let f = 0; f < frames; f++) {
    const t = performance.now();
    await c.run(1);
    walls.push(performance.now() - t);
    const next = start + (f + 1) * period;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuMsPerFrame: round((cpu.user + cpu.system) / 1000 / frames), wallMsPerFrame: round(stats(walls).median) };
}

// ---------------------------------------------------------------------------------------------------
// one preset

interface PresetReport {
  preset: string;
  inputSize: string;
  mflopPerImage: number;
  convertMs: number;
  torchExport: { version: string; ms: number } | { unavailable: string };
  unavailable: Record<string, string>;
  contenders: {
    key: string;
    label: string;
    threads: number | null;
    rssDeltaMB: number;
    latency: { medianMs: number; p90Ms: number; minMs: number; runs: number };
    vsTflite: number | null;
    vsTfliteMin: number | null;
    vsTorchOrt: Record<string, number> | null;
    vsTorchOrtMin: Record<string, number> | null;
    throughput: Record<string, { imagesPerSec: number; gflops: number; medianMs: number } | null>;
    pacedCpu?: { cpuMsPerFrame: number; wallMsPerFrame: number };
    int8SpeedupVsFp32?: Record<string, { median: number; min: number } | null>;
  }[];
}

async function benchPreset(preset: Preset, tmp: string): Promise<PresetReport> {
  log(`\n== ${preset.name} ==`);
  const source = await loadModelSource(preset);
  const mflop = (2 * convMacs(source.graph)) / 1e6;
  const unavailable: Record<string, string> = {};

  const convertTimes: number[] = [];
  for (let i = 0; i < CFG.convertRepeats; i++) {
    const root = await mkdtemp(path.join(tmp, 'convert-'));
    convertTimes.push((await convertPreset(preset, { artifactsRoot: root })).ms);
    await rm(root, { recursive: true, force: true });
  }
  const convertMs = round(stats(convertTimes).median, 1);
  log(`convert: ${convertMs} ms; ${round(mflop, 2)} MFLOP per image`);

  const ours = new Uint8Array(await readFile(path.join(source.artifactsDir, 'model.onnx')));
  const threadCounts = [1, 2];
  const contenders: Contender[] = [];
  const add = (c: Contender | { unavailable: string }, key: string): void => {
    if ('unavailable' in c) unavailable[key] = c.unavailable;
    else contenders.push(c);
  };
  // The official TFLite runtime on the original file: WebAssembly, XNNPACK delegate, 1 thread.
  add(await backendContender('tflite', 'TFLite runtime (wasm, XNNPACK, 1 thread) on the .tflite', preset, 1), 'tflite');
  for (const t of threadCounts) {
    add(await ortContender(`ort-ours-t${t}`, `onnxruntime-node, our model.onnx, ${t} thread(s), spinning off`, ours, preset, ortNodeSessionOptions({ threads: t, spinning: false }), t), `ort-ours-t${t}`);
  }
  // The int8 variant (convert --int8, src/convert/int8.ts), built in memory: timed whether or not it ships.
  const int8 = encodeModel((await buildInt8Model(source.graph, preset)).model);
  for (const t of threadCounts) {
    add(await ortContender(`ort-int8-t${t}`, `onnxruntime-node, model_int8.onnx (int8 QDQ), ${t} thread(s), spinning off`, int8, preset, ortNodeSessionOptions({ threads: t, spinning: false }), t), `ort-int8-t${t}`);
  }
  const torch = await torchExport(preset, tmp);
  if ('bytes' in torch) {
    for (const t of threadCounts) {
      add(await ortContender(`ort-torch-t${t}`, `onnxruntime-node, torch.onnx.export graph, ${t} thread(s), spinning off`, torch.bytes, preset, ortNodeSessionOptions({ threads: t, spinning: false }), t, true), `ort-torch-t${t}`);
    }
  } else unavailable['ort-torch'] = torch.unavailable;
  // Our emitter without the fast path (exact channels, Pad nodes): what the lowering changes bought.
  const plain = buildOnnxModel(source.graph, preset, { toolkitVersion: TOOLKIT_VERSION, lowering: { channelAlign: 0, channelPad: 'pad' } });
  add(await ortContender('ort-plain-t1', 'onnxruntime-node, emitter without the fast path (exact channels, Pad nodes), 1 thread', encodeModel(plain), preset, ortNodeSessionOptions({ threads: 1 }), 1), 'ort-plain-t1');
  // The fast path before split residuals and input rows (identity-conv / Pad channel pads, Transpose in): what those bought.
  const before = encodeModel(buildOnnxModel(source.graph, preset, { toolkitVersion: TOOLKIT_VERSION, lowering: { channelPad: 'conv', inputRows: false } }));
  for (const t of threadCounts) {
    add(await ortContender(`ort-prev-t${t}`, `onnxruntime-node, previous fast path (identity-conv channel pads, input Transpose), ${t} thread(s)`, before, preset, ortNodeSessionOptions({ threads: t }), t), `ort-prev-t${t}`);
  }
  if (!QUICK) {
    // A session whose batch is fixed (N known): measured about 1 % faster at N = 1, so the backend keeps one dynamic session.
    add(await ortContender('ort-ours-fixed1-t1', 'onnxruntime-node, our model.onnx with N fixed to 1 (static shapes), 1 thread', withFixedBatch(ours, 1), preset, ortNodeSessionOptions({ threads: 1 }), 1, false, 1), 'ort-ours-fixed1-t1');
    add(await ortContender('ort-ours-ortdefault', "onnxruntime-node, our model.onnx, ORT's default session options (all cores, spinning on)", ours, preset, { executionProviders: ['cpu'] }, os.cpus().length), 'ort-ours-ortdefault');
  }
  add(await backendContender('onnxruntime-web', 'onnxruntime-web (wasm, 1 thread), our model.onnx', preset, 1), 'onnxruntime-web');
  add(await backendContender('tfjs-wasm', 'tfjs-backend-wasm (XNNPACK, 1 thread), our tfjs model', preset, 1), 'tfjs-wasm');
  add(await tfjsExecuteContender(source, (n) => randomInput(n, preset.inputHeight, preset.inputWidth)), 'tfjs-wasm-execute');
  if (!QUICK) add(await backendContender('tfjs-cpu', 'tfjs-backend-cpu (plain JS), our tfjs model', preset, 1, true), 'tfjs-cpu');
  else unavailable['tfjs-cpu'] = 'skipped in --quick (plain-JS kernels, about 100x slower)';
  unavailable.reference = 'the float64 oracle is not a runtime; not timed';
  unavailable['tfjs-node'] = (await (await getBackendFactory('tfjs-node')).availability()).available ? 'not timed' : '@tensorflow/tfjs-node not installed';
  unavailable.torch = 'PyTorch eager behind a pipe; its exported graph is timed on onnxruntime-node instead';

  // batch-1 latency: the fast contenders many times, the slow ones (tfjs-cpu) a few times.
  const fast = contenders.filter((c) => !c.slow);
  const slow = contenders.filter((c) => c.slow);
  log(`batch 1: ${fast.length} contenders x ${CFG.runs} runs, interleaved`);
  const latency = await interleaved(fast, 1, CFG.warmup, CFG.runs);
  for (const [k, v] of await interleaved(slow, 1, 2, 10)) latency.set(k, v);
  const through = new Map<string, Map<number, Stats>>();
  for (const n of BATCHES.slice(1)) {
    log(`batch ${n}: interleaved`);
    const s = await interleaved(fast.filter((c) => c.onlyBatch === undefined || c.onlyBatch === n), n, 2, n === 8 ? CFG.runs8 : CFG.runs32);
    for (const [k, v] of s) {
      if (!through.has(k)) through.set(k, new Map());
      through.get(k)!.set(n, v);
    }
  }
  log('paced 30 frames/s loops');
  const paced = new Map<string, { cpuMsPerFrame: number; wallMsPerFrame: number }>();
  for (const c of fast) {
    if (['ort-ours-t1', 'ort-ours-t2', 'ort-ours-ortdefault', 'tflite', 'tfjs-wasm'].includes(c.key)) paced.set(c.key, await pacedCpu(c, CFG.frames));
  }
  if (preset.name === 'short_range') {
    await writeProfile(ours, preset, tmp);
    profileSummary!.ortMacsPerImage = ortConvMacs(source.graph, planChannelWidths(source.graph, ONNX_FAST_PATH.channelAlign), ONNX_FAST_PATH.channelAlign);
    profileSummary!.irMacsPerImage = convMacs(source.graph);
    const tfjsWasm = contenders.find((c) => c.key === 'tfjs-wasm');
    // The backend calls kernels directly (invisible to tf.profile): profile the same plan through the engine.
    const profiled = tfjsWasm ? await tfjsExecuteContender(source, (n) => randomInput(n, preset.inputHeight, preset.inputWidth), 'engine-plan') : null;
    if (profiled && !('unavailable' in profiled)) {
      tfjsProfile = await profileTfjs(profiled, latency.get('tfjs-wasm')!);
      await profiled.dispose();
    }
    tfliteOpProfile = await profileTfliteOps(source, randomInput(1, preset.inputHeight, preset.inputWidth), QUICK ? 100 : 300);
  }
  for (const c of contenders) await c.dispose();

  const tflite = latency.get('tflite')?.median ?? null;
  const tfliteMin = latency.get('tflite')?.min ?? null;
  const torchT = (t: number) => latency.get(`ort-torch-t${t}`)?.median ?? null;
  const torchMin = (t: number) => latency.get(`ort-torch-t${t}`)?.min ?? null;
  const report: PresetReport = {
    preset: preset.name,
    inputSize: `${preset.inputWidth}x${preset.inputHeight}`,
    mflopPerImage: round(mflop, 2),
    convertMs,
    torchExport: 'bytes' in torch ? { version: torch.version, ms: round(torch.ms, 0) } : torch,
    unavailable,
    contenders: contenders.map((c) => {
      const l = latency.get(c.key)!;
      const tput: Record<string, { imagesPerSec: number; gflops: number; medianMs: number } | null> = {};
      for (const n of BATCHES) {
        const s = n === 1 ? l : through.get(c.key)?.get(n);
        tput[`batch${n}`] = s ? { imagesPerSec: round((n * 1000) / s.median, 1), gflops: round((n * mflop) / s.median, 2), medianMs: round(s.median) } : null;
      }
      const vsTorch: Record<string, number> = {};
      const vsTorchMin: Record<string, number> = {};
      for (const t of threadCounts) if (torchT(t)) vsTorch[`t${t}`] = round(torchT(t)! / l.median, 2);
      for (const t of threadCounts) if (torchMin(t)) vsTorchMin[`t${t}`] = round(torchMin(t)! / l.min, 2);
      return {
        key: c.key,
        label: c.label,
        threads: c.threads,
        rssDeltaMB: c.rssDeltaMB,
        latency: { medianMs: round(l.median), p90Ms: round(l.p90), minMs: round(l.min), runs: l.n },
        // > 1: this contender is that many times faster than the reference runtime.
        vsTflite: tflite ? round(tflite / l.median, 2) : null,
        // The same ratio on the fastest run of each: what a quiet machine would show when the median
        // is inflated by preemption (long runs are interrupted more often than short ones).
        vsTfliteMin: tfliteMin ? round(tfliteMin / l.min, 2) : null,
        vsTorchOrt: Object.keys(vsTorch).length ? vsTorch : null,
        vsTorchOrtMin: Object.keys(vsTorchMin).length ? vsTorchMin : null,
        throughput: tput,
        ...(paced.has(c.key) ? { pacedCpu: paced.get(c.key)! } : {}),
        ...(c.key.startsWith('ort-int8-') ? { int8SpeedupVsFp32: int8Speedup(c.key, latency, through) } : {}),
      };
    }),
  };
  return report;
}

/** fp32 model.onnx time / model_int8.onnx time, same threads, per batch size (median; fastest run): > 1 means int8 is faster. */
function int8Speedup(key: string, latency: Map<string, Stats>, through: Map<string, Map<number, Stats>>): Record<string, { median: number; min: number } | null> {
  const fp32Key = key.replace('ort-int8-', 'ort-ours-');
  const at = (k: string, n: number) => (n === 1 ? latency.get(k) : through.get(k)?.get(n));
  const out: Record<string, { median: number; min: number } | null> = {};
  for (const n of BATCHES) {
    const [a, b] = [at(fp32Key, n), at(key, n)];
    out[`batch${n}`] = a && b ? { median: round(a.median / b.median, 2), min: round(a.min / b.min, 2) } : null;
  }
  return out;
}

/** ORT's own profile of our short_range graph (enableProfiling): share of kernel time per op type. */
let profileSummary: {
  file: string;
  kernelUsPerRun: number;
  runUsPerRun: number;
  nodes: number;
  byOp: Record<string, number>;
  topNodesUs: Record<string, number>;
  /** us per run: kernel time per op type, and the Conv kernels alone (a lower bound for this graph). */
  byOpUs: Record<string, number>;
  /** Per run (median and fastest over the profiled runs): wall, kernels, Conv kernels alone (a lower bound for this graph). */
  perRun: ReturnType<typeof perRunTimes>;
  /** Node types of the graph ORT runs after its rewrite (optimizedModelFilePath). */
  optimizedNodes: Record<string, number>;
  /** session.run() of a one-node model on the same input: onnxruntime-node's fixed cost per call. */
  runOverheadUs: { median: number; min: number };
  ortMacsPerImage?: number;
  irMacsPerImage?: number;
} | null = null;
async function writeProfile(bytes: Uint8Array, preset: Preset, tmp: string): Promise<void> {
  const prefix = path.join(tmp, 'ort-profile');
  const optimized = path.join(tmp, 'ort-optimized.onnx');
  const session = await ort.InferenceSession.create(bytes, { ...ortNodeSessionOptions(), enableProfiling: true, profileFilePrefix: prefix, optimizedModelFilePath: optimized });
  const x = new ort.Tensor('float32', randomInput(1, preset.inputHeight, preset.inputWidth), [1, preset.inputHeight, preset.inputWidth, 3]);
  for (let i = 0; i < 200; i++) await session.run({ input: x });
  (session as unknown as { endProfiling(): unknown }).endProfiling();
  await session.release();
  // The binding writes <prefix>_<timestamp>.json and does not return the name.
  const name = (await readdir(tmp)).filter((f) => f.startsWith('ort-profile') && f.endsWith('.json')).sort().pop();
  if (!name) throw new Error(`no ORT profile written under ${tmp}`);
  const file = path.join(tmp, name);
  const events = JSON.parse(await readFile(file, 'utf8')) as { cat?: string; name: string; ts: number; dur: number; args?: { op_name?: string } }[];
  const runs = events.filter((e) => e.name === 'model_run');
  const byOp: Record<string, number> = {};
  const byNode = new Map<string, number>();
  for (const e of events) {
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args?.op_name) {
      byOp[e.args.op_name] = (byOp[e.args.op_name] ?? 0) + e.dur;
      byNode.set(e.name, (byNode.get(e.name) ?? 0) + e.dur);
    }
  }
  const nodes = byNode;
  const topNodesUs = Object.fromEntries(
    [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => [`${k.replace(/_kernel_time$/, '')} (${events.find((e) => e.name === k)?.args?.op_name})`, round(v / runs.length, 1)]),
  );
  const kernel = Object.values(byOp).reduce((a, b) => a + b, 0);
  const byOpUs = Object.fromEntries(Object.entries(byOp).map(([k, v]) => [k, round(v / runs.length, 1)]));
  for (const k of Object.keys(byOp)) byOp[k] = round((100 * byOp[k]!) / kernel, 1);
  profileSummary = {
    file: path.basename(file),
    kernelUsPerRun: round(kernel / runs.length, 0),
    runUsPerRun: round(runs.reduce((a, e) => a + e.dur, 0) / runs.length, 0),
    nodes: nodes.size,
    byOp,
    topNodesUs,
    byOpUs,
    perRun: perRunTimes(events),
    optimizedNodes: await optimizedNodeCounts(optimized),
    runOverheadUs: await measureRunOverhead(ort, [1, preset.inputHeight, preset.inputWidth, 3], ortNodeSessionOptions()),
  };
}

let tfliteOpProfile: TfliteOpProfile | null = null;
/** tfjs-wasm per-kernel times (tf.profile) beside the whole call: how much is kernels, how much overhead. */
let tfjsProfile: { runs: number; kernelSumMs: { median: number; min: number }; callMs: { median: number; min: number }; byKernelMs: Record<string, number>; kernels: number } | null = null;
async function profileTfjs(c: Contender, plain: Stats): Promise<NonNullable<typeof tfjsProfile>> {
  const runs = QUICK ? 20 : 60;
  const sums: number[] = [];
  const byKernel = new Map<string, number[]>();
  let kernels = 0;
  for (let r = 0; r < runs; r++) {
    const info = await tf.profile(() => c.run(1).then(() => []));
    const own = info.kernels.filter((k) => !k.name.endsWith('__op'));
    kernels = own.length;
    sums.push(own.reduce((a, k) => a + (k.kernelTimeMs as number), 0));
    const per = new Map<string, number>();
    for (const k of own) per.set(k.name, (per.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    for (const [k, v] of per) byKernel.set(k, [...(byKernel.get(k) ?? []), v]);
  }
  const s = stats(sums);
  return {
    runs,
    kernelSumMs: { median: round(s.median), min: round(s.min) },
    callMs: { median: round(plain.median), min: round(plain.min) },
    byKernelMs: Object.fromEntries([...byKernel].map(([k, v]) => [k, round(stats(v).min)]).sort((a, b) => (b[1] as number) - (a[1] as number))),
    kernels,
  };
}

// ---------------------------------------------------------------------------------------------------
// the pipeline around the model, each its own script run in a child process and reported here beside the
// runtime figures: detect overhead (bench-detect), decoding + tiling (bench-preprocess), photo folders (bench-folder)

interface ChildBench { title: string; command: string; exitCode: number | null; output: string }

function childBenches(): ChildBench[] {
  if (values['no-detect']) return [];
  const runs: [string, string[]][] = [
    ['Detect overhead (scripts/bench-detect.ts)', ['scripts/bench-detect.ts', '--iterations', QUICK ? '150' : '500', '--warmup', QUICK ? '20' : '50']],
    ['Decoding, letterboxing and tiling (scripts/bench-preprocess.ts)', ['scripts/bench-preprocess.ts']],
    ['A folder of 1920x1280 photos through the CLI (scripts/bench-folder.ts)', ['scripts/bench-folder.ts', '--count', QUICK ? '100' : '1000', '--jobs', '2']],
  ];
  return runs.map(([title, script]) => {
    const args = ['tsx', ...script];
    log(`${title}...`);
    const r = spawnSync('npx', args, { cwd: REPO_ROOT, encoding: 'utf8' });
    return { title, command: `npx ${args.join(' ')}`, exitCode: r.status, output: r.stdout.trim() };
  });
}

// ---------------------------------------------------------------------------------------------------
// report

function markdown(report: Record<string, unknown> & { presets: PresetReport[] }, peak: Peak, children: ChildBench[]): string {
  const lines: string[] = [];
  const env = report.environment as Record<string, unknown>;
  lines.push('# npm run bench', '');
  lines.push(`${env.cpus} CPU(s), ${env.cpuModel}; load average ${env.loadBefore} before, ${env.loadAfter} after${env.busy ? ' (**the machine was busy: other processes shared the cores; compare ratios, not absolute times**)' : ''}.`);
  lines.push(`Mode: ${QUICK ? '--quick' : 'full'}; batch-1 figures are medians of ${CFG.runs} interleaved runs after ${CFG.warmup} warm-up rounds; batch 8 / 32 of ${CFG.runs8} / ${CFG.runs32}.`);
  lines.push(`Versions: ${(env.versions as string[]).join(', ')}.`, '');
  lines.push(`FP32 peak: ${JSON.stringify(peak.measured)} GFLOP/s (${peak.method}); 2-core peak ${peak.twoCorePeakGflops ?? 'n/a'} GFLOP/s (${peak.note}).`, '');
  for (const p of report.presets) {
    lines.push(`## ${p.preset} (${p.inputSize}, ${p.mflopPerImage} MFLOP per image, convert ${p.convertMs} ms)`, '');
    lines.push('| contender | threads | median ms | p90 ms | min ms | x faster than TFLite (median; min) | x faster than ORT on torch export, 1t / 2t (median; min) | img/s b1 | img/s b8 | img/s b32 | GFLOP/s b32 | CPU ms/frame @30fps | RSS +MB |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of p.contenders) {
      const t = (n: number) => c.throughput[`batch${n}`];
      const vsTorch = c.vsTorchOrt ? `${c.vsTorchOrt.t1 ?? '-'} / ${c.vsTorchOrt.t2 ?? '-'}; ${c.vsTorchOrtMin?.t1 ?? '-'} / ${c.vsTorchOrtMin?.t2 ?? '-'}` : '-';
      const paced = c.pacedCpu ? `${c.pacedCpu.cpuMsPerFrame} (wall ${c.pacedCpu.wallMsPerFrame})` : '-';
      lines.push(
        `| ${c.label} | ${c.threads ?? '-'} | ${c.latency.medianMs} | ${c.latency.p90Ms} | ${c.latency.minMs} | ${c.vsTflite ?? '-'}; ${c.vsTfliteMin ?? '-'} | ${vsTorch} | ${t(1)?.imagesPerSec ?? '-'} | ${t(8)?.imagesPerSec ?? '-'} | ${t(32)?.imagesPerSec ?? '-'} | ${t(32)?.gflops ?? '-'} | ${paced} | ${c.rssDeltaMB} |`,
      );
    }
    lines.push('');
    const int8Rows = p.contenders.filter((c) => c.int8SpeedupVsFp32);
    if (int8Rows.length > 0) {
      lines.push('int8 (model_int8.onnx) against fp32 (model.onnx) on onnxruntime-node, same threads: x faster (median; fastest run), > 1 = int8 faster.', '');
      lines.push('| threads | b1 | b8 | b32 |', '| --- | --- | --- | --- |');
      for (const c of int8Rows) {
        const r = (n: number) => c.int8SpeedupVsFp32![`batch${n}`];
        lines.push(`| ${c.threads} | ${BATCHES.map((n) => (r(n) ? `${r(n)!.median}; ${r(n)!.min}` : '-')).join(' | ')} |`);
      }
      lines.push('');
    }
    for (const [k, why] of Object.entries(p.unavailable)) lines.push(`- ${k}: ${why}`);
    lines.push('');
  }
  const targets = report.targets as { name: string; value: number | null; goal: string; met: boolean | null }[];
  lines.push('## Targets (issue 13)', '', '| target | measured | goal | met |', '| --- | --- | --- | --- |');
  for (const t of targets) lines.push(`| ${t.name} | ${t.value ?? 'n/a'} | ${t.goal} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
  lines.push('');
  const alone = report.batch32Alone as Batch32Alone | null;
  if (alone) {
    lines.push(`## short_range batch 32 alone (onnxruntime-node, model.onnx, spinning off, ${alone.rounds} runs per thread count, alternating, nothing else loaded)`, '');
    lines.push('| threads | median ms | fastest ms | GFLOP/s (median; fastest) | % of the 2-core peak (median; fastest) |', '| --- | --- | --- | --- | --- |');
    for (const [t, a] of Object.entries(alone.byThreads)) lines.push(`| ${t} | ${a.medianMs} | ${a.minMs} | ${a.gflopsMedian}; ${a.gflopsMax} | ${a.pctPeakMedian ?? 'n/a'}; ${a.pctPeakMax ?? 'n/a'} |`);
    lines.push('', 'The preset tables measure batch 32 interleaved with the wasm runtimes, which evict the caches a batch of 32 works in (16 MB of NCHWc activations per layer), over fewer runs; they read lower.', '');
  }
  if (profileSummary) {
    lines.push(`## ORT profile of short_range (1 thread): ${profileSummary.nodes} nodes after ORT's rewrite, ${profileSummary.kernelUsPerRun} us of kernels per ${profileSummary.runUsPerRun} us run`, '');
    lines.push(`Share of kernel time: ${Object.entries(profileSummary.byOp).map(([k, v]) => `${k} ${v} %`).join(', ')}.`, '');
    lines.push(`Slowest nodes (us per run): ${Object.entries(profileSummary.topNodesUs).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
    const sr = report.presets.find((p) => p.preset === 'short_range');
    const ms = (k: string) => sr?.contenders.find((c) => c.key === k)?.latency;
    lines.push(...limitsMarkdown(profileSummary, { tflite: ms('tflite'), ours1: ms('ort-ours-t1'), ours2: ms('ort-ours-t2') }, peak.measured['1 thread(s)'] ?? null));
  }
  if (tfjsProfile) {
    lines.push(`## tfjs-wasm profile of short_range (tf.profile, ${tfjsProfile.runs} runs, ${tfjsProfile.kernels} kernels per call)`, '');
    lines.push(`Kernel time per call: median ${tfjsProfile.kernelSumMs.median} ms, fastest ${tfjsProfile.kernelSumMs.min} ms; the whole call (unprofiled): median ${tfjsProfile.callMs.median} ms, fastest ${tfjsProfile.callMs.min} ms.`);
    lines.push(`Fastest time per kernel type (ms): ${Object.entries(tfjsProfile.byKernelMs).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  }
  if (tfliteOpProfile) {
    lines.push(`## TFLite runtime profile of short_range (its XNNPACK delegate's profiler, ${tfliteOpProfile.runs} runs, ${tfliteOpProfile.ops} ops per call)`, '');
    lines.push(`Average time per op type per call (ms), ${tfliteOpProfile.totalMs} in all: ${Object.entries(tfliteOpProfile.byOpMs).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  }
  for (const c of children) lines.push(`## ${c.title}`, '', `\`${c.command}\` (exit ${c.exitCode})`, '', '```', c.output, '```', '');
  return `${lines.join('\n')}\n`;
}

function targets(presets: PresetReport[], peak: Peak, b32Alone: Batch32Alone | null): { name: string; value: number | null; goal: string; met: boolean | null }[] {
  const sr = presets.find((p) => p.preset === 'short_range');
  const c = (k: string) => sr?.contenders.find((x) => x.key === k);
  const out: { name: string; value: number | null; goal: string; met: boolean | null }[] = [];
  const ge = (name: string, value: number | null | undefined, goal: number, goalText: string) =>
    out.push({ name, value: value ?? null, goal: goalText, met: value == null ? null : value >= goal });
  for (const t of [1, 2]) {
    ge(`short_range b1, ORT-node ${t} thread(s): x faster than TFLite (medians)`, c(`ort-ours-t${t}`)?.vsTflite, 4, '>= 4');
    ge(`short_range b1, ORT-node ${t} thread(s): x faster than TFLite (fastest runs)`, c(`ort-ours-t${t}`)?.vsTfliteMin, 4, '>= 4');
    ge(`short_range b1, ORT-node ${t} thread(s): x faster than ORT on torch export, same threads (medians)`, c(`ort-ours-t${t}`)?.vsTorchOrt?.[`t${t}`], 1.3, '>= 1.3');
    ge(`short_range b1, ORT-node ${t} thread(s): x faster than ORT on torch export, same threads (fastest runs)`, c(`ort-ours-t${t}`)?.vsTorchOrtMin?.[`t${t}`], 1.3, '>= 1.3');
  }
  const b32 = Math.max(c('ort-ours-t1')?.throughput.batch32?.gflops ?? 0, c('ort-ours-t2')?.throughput.batch32?.gflops ?? 0);
  ge('short_range b32 ORT-node GFLOP/s as % of the 2-core FP32 peak, interleaved with the other runtimes (table above)', peak.twoCorePeakGflops ? round((100 * b32) / peak.twoCorePeakGflops, 1) : null, 40, '>= 40 %');
  const alone = Object.values(b32Alone?.byThreads ?? {});
  const best = (k: 'pctPeakMedian' | 'pctPeakMax') => (alone.length ? Math.max(...alone.map((a) => a[k] ?? 0)) : null);
  ge(`short_range b32 ORT-node GFLOP/s as % of the 2-core FP32 peak, alone (medians of ${b32Alone?.rounds ?? 0} runs)`, best('pctPeakMedian'), 40, '>= 40 %');
  ge('short_range b32 ORT-node GFLOP/s as % of the 2-core FP32 peak, alone (fastest run)', best('pctPeakMax'), 40, '>= 40 %');
  const tfjs = c('tfjs-wasm');
  for (const [what, v] of [['medians', tfjs?.vsTflite], ['fastest runs', tfjs?.vsTfliteMin]] as const) {
    out.push({ name: `short_range b1, tfjs-wasm time / TFLite time (${what})`, value: v ? round(1 / v, 2) : null, goal: '<= 1.0', met: v ? 1 / v <= 1 : null });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// batch 32 alone, against the peak

interface Batch32Alone {
  rounds: number;
  byThreads: Record<string, { medianMs: number; minMs: number; gflopsMedian: number; gflopsMax: number; pctPeakMedian: number | null; pctPeakMax: number | null }>;
}
/**
 * short_range batch-32 throughput of our model.onnx with nothing else loaded between runs, 1 and 2
 * threads alternating: the figure set against the FMA peak, which is measured alone too. The preset
 * tables' b32 column runs interleaved with the wasm runtimes (which evict the caches the 16 MB NCHWc
 * activations of a batch of 32 live in) and over fewer runs, so it reads lower.
 */
async function batch32Alone(preset: Preset, peak: Peak): Promise<Batch32Alone> {
  const source = await loadModelSource(preset);
  const mflop = (2 * convMacs(source.graph)) / 1e6;
  const bytes = new Uint8Array(await readFile(path.join(source.artifactsDir, 'model.onnx')));
  const rounds = QUICK ? 10 : 30;
  const byThreads: Batch32Alone['byThreads'] = {};
  const runners = await Promise.all([1, 2].map((t) => ortContender(`b32-t${t}`, '', bytes, preset, ortNodeSessionOptions({ threads: t, spinning: false }), t)));
  const samples = runners.map(() => [] as number[]);
  for (const r of runners) for (let i = 0; i < 3; i++) await r.run(32);
  for (let round = 0; round < rounds; round++) {
    for (const [i, r] of runners.entries()) {
      const t0 = performance.now();
      await r.run(32);
      samples[i]!.push(performance.now() - t0);
    }
  }
  for (const [i, r] of runners.entries()) {
    const st = stats(samples[i]!);
    const gflops = (ms: number) => (32 * mflop) / ms; // MFLOP per ms = GFLOP/s
    const pct = (g: number) => (peak.twoCorePeakGflops ? round((100 * g) / peak.twoCorePeakGflops, 1) : null);
    byThreads[`${r.threads} thread(s)`] = { medianMs: round(st.median, 2), minMs: round(st.min, 2), gflopsMedian: round(gflops(st.median), 1), gflopsMax: round(gflops(st.min), 1), pctPeakMedian: pct(gflops(st.median)), pctPeakMax: pct(gflops(st.min)) };
    await r.dispose();
  }
  return { rounds, byThreads };
}

// ---------------------------------------------------------------------------------------------------

const tmp = await mkdtemp(path.join(os.tmpdir(), 'blazeface-bench-'));
try {
  const loadBefore = round(os.loadavg()[0]!, 2);
  log(`FP32 peak (FMA loop)...`);
  const peak = await measurePeak(tmp);
  log(`  ${JSON.stringify(peak.measured)} GFLOP/s`);
  const presets: PresetReport[] = [];
  for (const name of values.presets!.split(',')) presets.push(await benchPreset(getPreset(name.trim()), tmp));
  const b32Alone = presets.some((p) => p.preset === 'short_range') ? await batch32Alone(getPreset('short_range'), peak) : null;
  const children = childBenches();
  const loadAfter = round(os.loadavg()[0]!, 2);
  const cpus = os.cpus();
  const report = {
    schemaVersion: 1,
    tool: { name: 'blazeface-toolkit', version: TOOLKIT_VERSION },
    mode: QUICK ? 'quick' : 'full',
    config: CFG,
    environment: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? '?',
      flags: ['avx512f', 'avx2', 'fma'].filter((f) => readCpuFlags().includes(f)),
      loadBefore,
      loadAfter,
      busy: Math.max(loadBefore, loadAfter) > cpus.length / 2,
      node: process.version,
      versions: ['onnxruntime-node', 'onnxruntime-web', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-tflite'].map((p) => `${p} ${installedPackageVersion(p) ?? '?'}`),
      ortNodeDefaults: ORT_NODE_DEFAULTS,
      onnxFastPath: ONNX_FAST_PATH,
      peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
    },
    peak,
    presets,
    ortProfile: profileSummary,
    tfjsProfile,
    tfliteOpProfile,
    batch32Alone: b32Alone,
    pipeline: children,
    targets: [] as ReturnType<typeof targets>,
  };
  report.targets = targets(presets, peak, b32Alone);
  await mkdir(values.out!, { recursive: true });
  const md = markdown(report, peak, children);
  await writeFile(path.join(values.out!, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(values.out!, 'report.md'), md);
  console.log(md);
  log(`wrote ${path.join(values.out!, 'report.json')} and report.md`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}

function readCpuFlags(): string[] {
  try {
    return (/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(' ');
  } catch {
    return [];
  }
}

// Test fixture generator: rebuilds face_detection_front.tflite (128x128) and face_detection_back.tflite
// (256x256) as float32 TFLite files from the seed's converted weights (blazeface.pth, blazefaceback.pth),
// since the original MediaPipe files are not available. The layout is that of MediaPipe's float32 models
// as the seed describes it (and as face_detection_short_range.tflite, the float16 successor of the front
// model, shows op by op):
//   input -> CONV_2D 5x5/2 SAME -> RELU -> BlazeBlocks -> heads
//   BlazeBlock: DEPTHWISE_CONV_2D 3x3 (stride 1 or 2, SAME: the odd pixel bottom/right) [-> MAX_POOL_2D 2x2/2
//               of the skip path when stride 2] -> CONV_2D 1x1 [-> PAD of the skip path along channels when
//               the block widens] -> ADD(skip, conv) -> RELU
//   back only:  the final block (stride-2 depthwise + pointwise + RELU, no skip path)
//   heads:      classificator_8, classificator_16, regressor_8, regressor_16 (1x1 CONV_2D on the 2x-finer and
//               the coarsest map) -> RESHAPE [1, A_i, C] -> CONCATENATION axis 1 -> 'classificators' [1,896,1],
//               'regressors' [1,896,16]
// Which conv feeds which state_dict key is then checked against src/presets/torch-naming.ts (its `irConv`
// positions are the contract the PyTorch emitter relies on); a disagreement is an error, not a fix-up.
// Weights go back from PyTorch layout: conv [O,I,H,W] -> [O,H,W,I], depthwise [C,1,H,W] -> [1,H,W,C].
//
// The .pth files are read by python/export_seed_weights.py (torch is needed: blazeface.pth is a legacy,
// non-zip torch serialization), which writes one .npy per tensor and an index.json.
//
//   npx tsx scripts/make-seed-tflite.ts [--out <dir>] [--seed <dir>] [--python <exe>]
//
// Default output: a new temporary folder. The files are derived from the seed's weights: never commit them.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../src/fixtures.js';
import type { Graph, Op, Tensor } from '../src/ir/graph.js';
import { readNpyFile } from '../src/npy.js';
import { TORCH_NAMING, torchParams } from '../src/presets/torch-naming.js';
import { sha256Hex, writeFileAtomic } from '../src/util/fs.js';
import { writeTflite } from '../src/tflite/writer.js';

export type SeedArchitecture = 'front' | 'back';

/** One BlazeBlock of the layout: its state_dict prefix, its stride, whether it has the residual path. */
interface BlockSpec {
  readonly key: string;
  readonly stride: 1 | 2;
  readonly skip: boolean;
}

interface HeadSpec {
  readonly key: string;
  readonly output: 'regressors' | 'classificators';
  /** Side of the feature map it reads (the last block output of that size). */
  readonly mapSize: number;
}

interface SeedLayout {
  readonly architecture: SeedArchitecture;
  readonly inputSize: number;
  /** The .pth in the seed folder and the .tflite name it becomes. */
  readonly pth: string;
  readonly tflite: string;
  readonly stem: string;
  readonly blocks: readonly BlockSpec[];
  /** In execution order (MediaPipe's: classificator_8, classificator_16, regressor_8, regressor_16). */
  readonly heads: readonly HeadSpec[];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const blocks = (prefix: string, ids: number[], stride2: number[]): BlockSpec[] =>
  ids.map((i) => ({ key: `${prefix}.${i}`, stride: stride2.includes(i) ? 2 : 1, skip: true }));
const heads = (small: number, big: number): HeadSpec[] => [
  { key: 'classifier_8', output: 'classificators', mapSize: small },
  { key: 'classifier_16', output: 'classificators', mapSize: big },
  { key: 'regressor_8', output: 'regressors', mapSize: small },
  { key: 'regressor_16', output: 'regressors', mapSize: big },
];

/** The two layouts. Feature maps: front 128 -> 64 -> 32 -> 16 -> 8; back 256 -> 128 -> 64 -> 32 -> 16 -> 8. */
export const SEED_LAYOUTS: Readonly<Record<SeedArchitecture, SeedLayout>> = {
  front: {
    architecture: 'front',
    inputSize: 128,
    pth: 'blazeface.pth',
    tflite: 'face_detection_front.tflite',
    stem: 'backbone1.0',
    blocks: [...blocks('backbone1', range(2, 12), [4, 7]), ...blocks('backbone2', range(0, 4), [0])],
    heads: heads(16, 8),
  },
  back: {
    architecture: 'back',
    inputSize: 256,
    pth: 'blazefaceback.pth',
    tflite: 'face_detection_back.tflite',
    stem: 'backbone.0',
    blocks: [...blocks('backbone', range(2, 32), [9, 17, 25]), { key: 'final', stride: 2, skip: false }],
    heads: heads(16, 8),
  },
};

/** A state_dict as exported: tensors by key, in file order. */
export interface SeedWeights {
  readonly source: string;
  readonly keys: readonly string[];
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
}

export class SeedFixtureError extends Error {}

// ---------------------------------------------------------------- python side

/** Run a command, collecting stdout/stderr. */
function run(cmd: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The interpreter to use: --python, else $BLAZEFACE_PYTHON, else /usr/bin/python3 (the one with torch here). */
export function defaultPython(): string {
  return process.env.BLAZEFACE_PYTHON || '/usr/bin/python3';
}

export const EXPORT_SCRIPT = path.join(REPO_ROOT, 'python', 'export_seed_weights.py');

/** Why the generator cannot run here (missing seed files, no torch), or null when it can. */
export async function seedFixtureUnavailable(seed: string | null, python = defaultPython()): Promise<string | null> {
  if (!seed) return 'the seed folder (../shared/seed or $BLAZEFACE_SEED_DIR) is missing';
  const missing = Object.values(SEED_LAYOUTS)
    .map((l) => path.join(seed, l.pth))
    .filter((f) => !existsSync(f));
  if (missing.length > 0) return `seed weights missing: ${missing.join(', ')}`;
  const r = await run(python, ['-c', 'import torch, numpy; print(torch.__version__)']);
  if (r.code !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}`;
    return `${python} cannot import torch and numpy (${why}); pass --python or set BLAZEFACE_PYTHON to an interpreter with PyTorch`;
  }
  return null;
}

/** Run python/export_seed_weights.py on the given .pth files (one interpreter start) and read the results back. */
export async function exportSeedWeights(pths: readonly string[], python = defaultPython()): Promise<SeedWeights[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'blazeface-seed-weights-'));
  try {
    const dirs = pths.map((_, i) => path.join(work, String(i)));
    const r = await run(python, [EXPORT_SCRIPT, 'export', ...pths.flatMap((p, i) => [p, dirs[i]!])]);
    if (r.code !== 0) {
      throw new SeedFixtureError(`${EXPORT_SCRIPT} failed (${r.error?.message ?? `exit code ${r.code}`}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const out: SeedWeights[] = [];
    for (const [i, dir] of dirs.entries()) {
      const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
        tensors: { key: string; shape: number[]; dtype: string; file: string }[];
      };
      const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
      for (const t of index.tensors) {
        const npy = await readNpyFile(path.join(dir, t.file));
        if (npy.dtype !== '<f4' || !(npy.data instanceof Float32Array)) throw new SeedFixtureError(`${pths[i]}: ${t.key} exported as ${npy.dtype}, expected <f4`);
        if (npy.shape.join(',') !== t.shape.join(',')) throw new SeedFixtureError(`${pths[i]}: ${t.key} has shape [${npy.shape}] in its .npy, [${t.shape}] in the index`);
        tensors.set(t.key, { shape: npy.shape, data: npy.data });
      }
      out.push({ source: pths[i]!, keys: index.tensors.map((t) => t.key), tensors });
    }
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- layout transforms

/** PyTorch conv [O,I,H,W] -> TFLite [O,H,W,I]. */
export function convToTflite(shape: readonly number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  const [o, i, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let oc = 0; oc < o; oc++)
    for (let ic = 0; ic < i; ic++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((oc * h + y) * w + x) * i + ic] = data[((oc * i + ic) * h + y) * w + x]!;
  return { shape: [o, h, w, i], data: out };
}

/** PyTorch depthwise [C,1,H,W] -> TFLite [1,H,W,C]. */
export function depthwiseToTflite(shape: readonly number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  const [c, one, h, w] = shape as [number, number, number, number];
  if (one !== 1) throw new SeedFixtureError(`depthwise weight [${shape.join(',')}]: expected [C,1,H,W]`);
  const out = new Float32Array(data.length);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) out[(y * w + x) * c + ch] = data[(ch * h + y) * w + x]!;
  return { shape: [1, h, w, c], data: out };
}

// ---------------------------------------------------------------- graph

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Builds the IR the way the TFLite converter lays a file out: constants just before the op that reads them. */
class GraphBuilder {
  readonly tensors: Tensor[] = [];
  readonly ops: Op[] = [];
  /** For each CONV_2D / DEPTHWISE_CONV_2D, in op order: the state_dict module it was built from. */
  readonly convModules: string[] = [];
  private readonly counters = new Map<string, number>();

  /** Keras-style unique names: conv2d, conv2d_1, ... */
  name(base: string): string {
    const n = this.counters.get(base) ?? 0;
    this.counters.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  tensor(name: string, shape: readonly number[], data?: Float32Array): number {
    const t: Mutable<Tensor> = { index: this.tensors.length, name, shape: [...shape], dtype: 'float32', sourceDtype: 'float32', buffer: 0 };
    if (data) t.data = data;
    this.tensors.push(t);
    return t.index;
  }

  shape(i: number): readonly number[] {
    return this.tensors[i]!.shape;
  }

  op(op: DistributiveOmit<Op, 'index'>): void {
    this.ops.push({ ...op, index: this.ops.length } as Op);
  }
}

function weight(w: SeedWeights, key: string): { shape: readonly number[]; data: Float32Array } {
  const t = w.tensors.get(key);
  if (!t) throw new SeedFixtureError(`${w.source}: no tensor '${key}' (the ${path.basename(w.source)} layout differs from the expected one)`);
  return t;
}

function expectShape(w: SeedWeights, key: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.join(',') !== expected.join(',')) {
    throw new SeedFixtureError(`${w.source}: '${key}' has shape [${actual.join(',')}], expected [${expected.join(',')}]`);
  }
}

/** Same-padding output size, as TFLite computes it. */
const sameOut = (n: number, stride: number): number => Math.ceil(n / stride);

/** Build the Graph IR of one seed model from its exported weights. */
export function buildSeedGraph(arch: SeedArchitecture, w: SeedWeights): Graph {
  const layout = SEED_LAYOUTS[arch];
  const g = new GraphBuilder();
  const S = layout.inputSize;
  const input = g.tensor('input', [1, S, S, 3]);

  /** CONV_2D or DEPTHWISE_CONV_2D from module `key`; returns the output tensor. */
  const conv = (key: string, kind: 'conv' | 'depthwise', x: number, stride: 1 | 2, padding: 'SAME' | 'VALID', outName: string): number => {
    const kw = weight(w, `${key}.weight`);
    const kb = weight(w, `${key}.bias`);
    const [, h, wd, c] = g.shape(x) as [number, number, number, number];
    if (kind === 'depthwise') expectShape(w, `${key}.weight`, kw.shape, [c, 1, kw.shape[2]!, kw.shape[3]!]);
    else expectShape(w, `${key}.weight`, kw.shape, [kw.shape[0]!, c, kw.shape[2]!, kw.shape[3]!]);
    const outC = kw.shape[0]!;
    expectShape(w, `${key}.bias`, kb.shape, [outC]);
    const k = kind === 'depthwise' ? depthwiseToTflite(kw.shape, kw.data) : convToTflite(kw.shape, kw.data);
    if (padding === 'VALID' && (k.shape[1] !== 1 || k.shape[2] !== 1 || stride !== 1)) throw new SeedFixtureError(`${key}: VALID is only used for 1x1 stride-1 convs`);
    const kernel = g.tensor(`${outName}/Kernel`, k.shape, k.data);
    const bias = g.tensor(`${outName}/Bias`, [outC], Float32Array.from(kb.data));
    const out = g.tensor(outName, [1, sameOut(h, stride), sameOut(wd, stride), outC]);
    const common = { inputs: [x, kernel, bias], outputs: [out], padding, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation: 'NONE' as const };
    if (kind === 'depthwise') g.op({ type: 'DEPTHWISE_CONV_2D', depthMultiplier: 1, ...common });
    else g.op({ type: 'CONV_2D', ...common });
    g.convModules.push(key);
    return out;
  };
  const relu = (x: number): number => {
    const out = g.tensor(g.name('activation'), g.shape(x));
    g.op({ type: 'RELU', inputs: [x], outputs: [out] });
    return out;
  };

  // Stem.
  let x = relu(conv(layout.stem, 'conv', input, 2, 'SAME', g.name('conv2d')));
  const maps = new Map<number, number>(); // map side -> last tensor of that size

  for (const block of layout.blocks) {
    const dw = conv(`${block.key}.convs.0`, 'depthwise', x, block.stride, 'SAME', g.name('depthwise_conv2d'));
    let skip = x;
    if (block.skip && block.stride === 2) {
      const [, h, wd, c] = g.shape(x) as [number, number, number, number];
      const pooled = g.tensor(g.name('max_pooling2d'), [1, sameOut(h, 2), sameOut(wd, 2), c]);
      g.op({ type: 'MAX_POOL_2D', inputs: [x], outputs: [pooled], padding: 'SAME', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE' });
      skip = pooled;
    }
    const pw = conv(`${block.key}.convs.1`, 'conv', dw, 1, 'VALID', g.name('conv2d'));
    if (!block.skip) {
      x = relu(pw);
    } else {
      const skipC = g.shape(skip)[3]!;
      const outC = g.shape(pw)[3]!;
      if (outC < skipC) throw new SeedFixtureError(`${block.key}: narrows ${skipC} -> ${outC} channels; the skip path can only be zero-padded`);
      if (outC > skipC) {
        const padded = g.tensor(g.name('channel_padding'), g.shape(pw));
        g.op({ type: 'PAD', inputs: [skip], outputs: [padded], paddings: [[0, 0], [0, 0], [0, 0], [0, outC - skipC]] });
        skip = padded;
      }
      if (g.shape(skip).join(',') !== g.shape(pw).join(',')) {
        throw new SeedFixtureError(`${block.key}: skip path [${g.shape(skip)}] and block output [${g.shape(pw)}] differ`);
      }
      const sum = g.tensor(g.name('add'), g.shape(pw));
      g.op({ type: 'ADD', inputs: [skip, pw], outputs: [sum], activation: 'NONE' });
      x = relu(sum);
    }
    maps.set(g.shape(x)[1]!, x);
  }

  // Heads: 1x1 convs, then RESHAPE to [1, cells*anchors, coords], then one CONCATENATION per output.
  const coords = { classificators: 1, regressors: 16 } as const;
  const headOut = layout.heads.map((h) => {
    const src = maps.get(h.mapSize);
    if (src === undefined) throw new SeedFixtureError(`${h.key}: no ${h.mapSize}x${h.mapSize} feature map in the ${arch} layout`);
    const name = h.key.replace('classifier', 'classificator');
    return { h, out: conv(h.key, 'conv', src, 1, 'SAME', name) };
  });
  const reshaped = headOut.map(({ h, out }) => {
    const [, hh, ww, c] = g.shape(out) as [number, number, number, number];
    const k = coords[h.output];
    if (c % k !== 0) throw new SeedFixtureError(`${h.key}: ${c} channels are not a multiple of ${k}`);
    const newShape = [1, (hh * ww * c) / k, k];
    const rs = g.tensor(g.name('reshape'), newShape);
    g.op({ type: 'RESHAPE', inputs: [out], outputs: [rs], newShape });
    return { h, rs };
  });
  const outputs = new Map<string, number>();
  for (const output of ['classificators', 'regressors'] as const) {
    const parts = reshaped.filter((r) => r.h.output === output).map((r) => r.rs);
    const anchors = parts.reduce((s, p) => s + g.shape(p)[1]!, 0);
    const out = g.tensor(output, [1, anchors, coords[output]]);
    g.op({ type: 'CONCATENATION', inputs: parts, outputs: [out], axis: 1, activation: 'NONE' });
    outputs.set(output, out);
  }

  const used = new Set([layout.stem, ...layout.blocks.flatMap((b) => [`${b.key}.convs.0`, `${b.key}.convs.1`]), ...layout.heads.map((h) => h.key)]);
  const unused = w.keys.filter((k) => !used.has(k.replace(/\.(weight|bias)$/, '')));
  if (unused.length > 0) throw new SeedFixtureError(`${w.source}: tensors not used by the ${arch} layout: ${unused.join(', ')}`);

  checkAgainstTorchNaming(arch, g.convModules, w);

  return {
    source: { fileName: layout.tflite, sha256: '', byteLength: 0 },
    description: `${layout.tflite} rebuilt from the seed's ${layout.pth} (float32 test fixture)`,
    schemaVersion: 3,
    tensors: g.tensors,
    ops: g.ops,
    foldedOps: [],
    inputs: [input],
    outputs: [outputs.get('regressors')!, outputs.get('classificators')!],
  };
}

/**
 * The contract with src/presets/torch-naming.ts: the conv at position `irConv` is the one built from that
 * row's module, and the table's state_dict keys are the seed's, in the seed's order.
 */
function checkAgainstTorchNaming(arch: SeedArchitecture, convModules: readonly string[], w: SeedWeights): void {
  const naming = TORCH_NAMING[arch];
  const problems: string[] = [];
  if (naming.layers.length !== convModules.length) problems.push(`the table has ${naming.layers.length} convs, the layout ${convModules.length}`);
  for (const layer of naming.layers) {
    if (convModules[layer.irConv] !== layer.module) {
      problems.push(`${layer.module}: table says conv #${layer.irConv}, which the layout builds from ${convModules[layer.irConv] ?? 'nothing'}`);
    }
  }
  const tableKeys = torchParams(naming).map((p) => p.key);
  if (tableKeys.join('\n') !== w.keys.join('\n')) problems.push(`the table's state_dict keys differ from ${path.basename(w.source)}'s (keys or order)`);
  if (problems.length > 0) {
    throw new SeedFixtureError(`torch-naming '${arch}' disagrees with the ${arch} layout:\n  ${problems.join('\n  ')}`);
  }
}

// ---------------------------------------------------------------- files

export interface SeedTfliteFile {
  readonly architecture: SeedArchitecture;
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly graph: Graph;
  readonly weights: SeedWeights;
}

export interface MakeSeedTfliteOptions {
  readonly outDir: string;
  readonly seedDir: string;
  readonly python?: string;
  readonly architectures?: readonly SeedArchitecture[];
}

/** Export the seed's weights, build both graphs, write the .tflite files (atomically) into outDir. */
export async function makeSeedTflite(opts: MakeSeedTfliteOptions): Promise<SeedTfliteFile[]> {
  const python = opts.python ?? defaultPython();
  const why = await seedFixtureUnavailable(opts.seedDir, python);
  if (why) throw new SeedFixtureError(`cannot build the seed models: ${why}`);
  const archs = opts.architectures ?? (['front', 'back'] as const);
  const weights = await exportSeedWeights(
    archs.map((a) => path.join(opts.seedDir, SEED_LAYOUTS[a].pth)),
    python,
  );
  const out: SeedTfliteFile[] = [];
  for (const [i, arch] of archs.entries()) {
    const graph = buildSeedGraph(arch, weights[i]!);
    const bytes = writeTflite(graph);
    const file = path.join(opts.outDir, SEED_LAYOUTS[arch].tflite);
    await writeFileAtomic(file, bytes);
    out.push({ architecture: arch, path: file, bytes, graph, weights: weights[i]! });
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      python: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npx tsx scripts/make-seed-tflite.ts [--out <dir>] [--seed <dir>] [--python <exe>]');
    return;
  }
  const seed = path.resolve(values.seed ?? process.env.BLAZEFACE_SEED_DIR ?? path.join(REPO_ROOT, '..', 'shared', 'seed'));
  if (!existsSync(seed)) throw new SeedFixtureError(`seed folder ${seed} does not exist (pass --seed, or set BLAZEFACE_SEED_DIR)`);
  const why = await seedFixtureUnavailable(seed, values.python ?? defaultPython());
  if (why) throw new SeedFixtureError(`cannot build the seed models: ${why}`);
  const outDir = values.out ? path.resolve(values.out) : await mkdtemp(path.join(tmpdir(), 'blazeface-seed-tflite-'));
  const files = await makeSeedTflite({ outDir, seedDir: seed, python: values.python });
  for (const f of files) {
    const convs = f.graph.ops.filter((o) => o.type === 'CONV_2D' || o.type === 'DEPTHWISE_CONV_2D').length;
    console.log(`${f.path}  ${f.bytes.byteLength} bytes  sha256 ${sha256Hex(f.bytes)}  (${f.graph.ops.length} ops, ${convs} convs, from ${f.weights.keys.length} tensors)`);
  }
  console.log('derived from the seed weights: test fixtures only, do not commit them');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`make-seed-tflite: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

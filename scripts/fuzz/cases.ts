// One fuzz case = (seed, index) -> a kind, a mutated input and the user path that consumes it.
// Generation is deterministic: the same seed and index give the same bytes on every run, so a case
// printed by the harness is replayed with `--case K`. Runs inside the pool's child processes.
import type { Sharp } from 'sharp';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, seedDir, SEED_PHOTOS } from '../../src/fixtures.js';
import { PACKAGED_PRESETS, getPreset } from '../../src/presets/index.js';
import { resolvePresetModelFile } from '../../src/tflite/model-file.js';
import { mulberry32 } from '../../src/util/random.js';
import { imageSites } from './image-sites.js';
import { mutateJson } from './json-mutate.js';
import { bitFlips, genericMutation, int, pick, rewriteInt, stacked, truncate, type Mutated, type Rng } from './mutate.js';
import { tfliteSites, type Site, type SiteKind } from './tflite-sites.js';

export const KINDS = ['models', 'images', 'artifacts', 'npy'] as const;
/** 'selftest' is the harness's own check (test/fuzz.test.ts): it must classify these as failures. */
export type Kind = (typeof KINDS)[number] | 'selftest';

export interface FuzzCase {
  readonly index: number;
  readonly kind: Kind;
  /** What was mutated and how, e.g. 'full_range_sparse: int32 @281652 (tensor #3 shape[1]) 16 -> 20000'. */
  readonly description: string;
  /** The mutated input and a file name for it (replay: `--case K --save dir` writes it). */
  readonly input?: { readonly name: string; readonly bytes: Uint8Array };
  readonly run: () => Promise<void>;
}

/** Seed of case `index`: independent streams per case (splitmix-style mixing of the run seed and index). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Phase marks of the running case ('read', 'emit', ...) in process CPU time (ms), so a slow case says where its time went. */
export const phases: { name: string; at: number }[] = [];
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
function mark(name: string): void {
  phases.push({ name, at: cpuNowMs() });
}

export function kindOf(index: number, kinds: readonly Kind[]): Kind {
  return kinds[index % kinds.length]!;
}

// ---------------------------------------------------------------- corpora (built once per process)

interface ModelBase {
  readonly preset: string;
  readonly bytes: Uint8Array;
  readonly sites: Site[];
  readonly byKind: Map<SiteKind, Site[]>;
}

let models: ModelBase[] | null = null;
function modelCorpus(): ModelBase[] {
  models ??= PACKAGED_PRESETS.map((preset) => {
    const bytes = new Uint8Array(readFileSync(resolvePresetModelFile(getPreset(preset))));
    const sites = tfliteSites(bytes);
    const byKind = new Map<SiteKind, Site[]>();
    for (const s of sites) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s]);
    return { preset, bytes, sites, byKind };
  });
  return models;
}

let images: Promise<{ name: string; bytes: Uint8Array }[]> | null = null;
function imageCorpus(): Promise<{ name: string; bytes: Uint8Array }[]> {
  images ??= (async () => {
    const { default: sharp } = await import('sharp');
    // Small images keep a case fast; the seed photos give real content, a gradient works without them.
    const sources: { name: string; input: Sharp }[] = [];
    const dir = seedDir();
    if (dir) for (const p of SEED_PHOTOS.slice(0, 2)) sources.push({ name: p, input: sharp(path.join(dir, p)).resize(96) });
    const w = 80;
    const h = 60;
    const raw = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) raw.set([(i % w) * 3, Math.floor(i / w) * 4, (i * 7) % 256], 3 * i);
    sources.push({ name: 'gradient', input: sharp(raw, { raw: { width: w, height: h, channels: 3 } }) });
    const out: { name: string; bytes: Uint8Array }[] = [];
    for (const { name, input } of sources) {
      out.push({ name: `${name}.png`, bytes: new Uint8Array(await input.clone().png().toBuffer()) });
      out.push({ name: `${name}.jpg`, bytes: new Uint8Array(await input.clone().jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toBuffer()) });
      out.push({ name: `${name}.webp`, bytes: new Uint8Array(await input.clone().webp({ quality: 70 }).toBuffer()) });
      out.push({ name: `${name}.lossless.webp`, bytes: new Uint8Array(await input.clone().webp({ lossless: true }).toBuffer()) });
    }
    return out;
  })();
  return images;
}

/** A private copy of the artifacts tree (manifest, tfjs and onnx files) that cases may overwrite. */
let artifactsCopy: string | null = null;
function artifactsRoot(): string {
  if (!artifactsCopy) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bft-fuzz-'));
    const src = path.join(REPO_ROOT, 'artifacts');
    cpSync(src, dir, { recursive: true, filter: (f) => !f.startsWith(path.join(src, 'parity')) });
    artifactsCopy = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return artifactsCopy;
}

/** Write `bytes` over `file` for the duration of `fn`, then restore the original. */
async function withFile(file: string, bytes: Uint8Array, fn: () => Promise<void>): Promise<void> {
  const original = readFileSync(file);
  writeFileSync(file, bytes);
  try {
    await fn();
  } finally {
    writeFileSync(file, original);
  }
}

// ---------------------------------------------------------------- models

function mutateModel(base: ModelBase, rng: Rng): Mutated {
  const site = (kinds: SiteKind[]): Site | undefined => {
    const pool = kinds.flatMap((k) => base.byKind.get(k) ?? []);
    return pool.length ? pick(rng, pool) : undefined;
  };
  // A site may lie past the end once an earlier stacked mutation truncated the file.
  const at = (s: Site | undefined, b: Uint8Array): Mutated => (s && s.pos + s.size <= b.byteLength ? rewriteInt(b, rng, s.pos, s.size, s.what) : bitFlips(b, rng));
  const one = (b: Uint8Array, r: Rng): Mutated => {
    const choice = r();
    if (choice < 0.25) return at(site(['scalar', 'vecElement']), b); // int-field rewrites: shapes, buffers, operands, options
    if (choice < 0.3) return at(site(['ioShape']), b);
    if (choice < 0.4) return at(site(['vecLength']), b);
    if (choice < 0.5) return at(site(['vtable']), b);
    if (choice < 0.58) return at(site(['uoffset']), b);
    // Sparse metadata; models without sparsity fall back to shape rewrites.
    if (choice < 0.7) return at(site(base.byKind.has('sparse') ? ['sparse'] : ['vecElement']), b);
    if (choice < 0.78) {
      // Bit flips inside the structure rather than in the weights that dominate the file.
      const s = pick(r, base.sites);
      const m = bitFlips(b, r, s.pos, Math.min(b.byteLength, s.pos + s.size));
      return { bytes: m.bytes, description: `${m.description} (${s.what})` };
    }
    if (choice < 0.86) return truncate(b, r);
    return genericMutation(b, r);
  };
  const m = stacked(base.bytes, rng, one);
  return { bytes: m.bytes, description: `${base.preset}: ${m.description}` };
}

async function runModel(bytes: Uint8Array, preset: string, rng: Rng): Promise<void> {
  const { readTflite } = await import('../../src/tflite/reader.js');
  const { runReference } = await import('../../src/reference/runtime.js');
  const { imageInput } = await import('../../src/ir/graph.js');
  const { buildOnnxModel } = await import('../../src/emit/onnx/emit.js');
  const { encodeModel } = await import('../../src/emit/onnx/proto.js');
  const { emitTfjs } = await import('../../src/emit/tfjs/emit.js');
  // The user path: `convert` (read + every emitter) and the reference backend on one image.
  mark('read');
  const graph = readTflite(bytes, `${preset}.tflite`);
  // As convert, loadModelSource and the reference runtime do: a graph whose operands do not fit never
  // reaches an emitter (they size their outputs from the declared shapes).
  const { validateGraph } = await import('../../src/ir/validate.js');
  validateGraph(graph);
  mark('emit');
  const p = getPreset(preset);
  encodeModel(buildOnnxModel(graph, p, { toolkitVersion: 'fuzz' }));
  emitTfjs(graph, p, { weightDtype: 'float16', toolkitVersion: 'fuzz' });
  if (p.torchArchitecture) {
    const { emitTorch } = await import('../../src/emit/torch/emit.js');
    emitTorch(graph, p);
  }
  mark('preprocess');
  const [, h, w] = imageInput(graph).shape as number[];
  const { toModelBatch } = await import('../../src/image/pixels.js');
  const { loadInputImage } = await import('../../src/detect/input.js');
  const { letterboxRgb } = await import('../../src/detect/letterbox.js');
  // The detector's preprocessing for this model: a small random image letterboxed to its input.
  const pixels = new Uint8Array(32 * 24 * 3).map(() => int(rng, 256));
  const rgb = await loadInputImage({ data: pixels, width: 32, height: 24 });
  const { image } = await letterboxRgb(rgb, w!, h!);
  // A model whose input is not 3 channels gets the 3-channel batch the detector makes; the runtime must refuse it.
  const batch = toModelBatch([image]);
  mark('reference');
  runReference(graph, batch);
}

// ---------------------------------------------------------------- images

async function mutateImage(rng: Rng): Promise<{ name: string; m: Mutated }> {
  const base = pick(rng, await imageCorpus());
  const sites = imageSites(base.bytes);
  const one = (b: Uint8Array, r: Rng): Mutated => {
    const s = sites.length && r() < 0.5 ? pick(r, sites) : undefined;
    if (s && s.pos + s.size <= b.byteLength) {
      return rewriteInt(b, r, s.pos, s.size, s.what, s.bigEndian);
    }
    return genericMutation(b, r);
  };
  return { name: base.name, m: stacked(base.bytes, rng, one) };
}

async function runImage(bytes: Uint8Array, name: string, rng: Rng, preset: string): Promise<void> {
  const { loadInputImage } = await import('../../src/detect/input.js');
  const { letterboxRgb } = await import('../../src/detect/letterbox.js');
  const { toModelBatch } = await import('../../src/image/pixels.js');
  const size = getPreset(preset).anchors.inputSizeWidth;
  let input: string | Uint8Array = bytes;
  let file: string | null = null;
  if (rng() < 0.3) {
    // Half the user paths pass a file name: the same bytes through sharp's file reader.
    file = path.join(os.tmpdir(), `bft-fuzz-${process.pid}-${name}`);
    writeFileSync(file, bytes);
    input = file;
  }
  try {
    const rgb = await loadInputImage(input);
    const { image } = await letterboxRgb(rgb, size, size);
    toModelBatch([image]);
  } finally {
    if (file) rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------- artifacts (manifest.json, tfjs model.json)

async function runManifest(bytes: Uint8Array, preset: string): Promise<void> {
  const { verifyPresetArtifacts } = await import('../../src/artifacts/manifest.js');
  const root = artifactsRoot();
  const modelBytes = modelCorpus().find((m) => m.preset === preset)!.bytes;
  await withFile(path.join(root, 'manifest.json'), bytes, async () => {
    await verifyPresetArtifacts(root, preset, modelBytes, `${preset}.tflite`);
  });
}

async function runTfjsModelJson(bytes: Uint8Array, preset: string): Promise<void> {
  const { loadModelSource } = await import('../../src/model-source.js');
  const { getBackendFactory } = await import('../../src/backends/index.js');
  const { imageInput } = await import('../../src/ir/graph.js');
  const root = artifactsRoot();
  await withFile(path.join(root, preset, 'tfjs', 'model.json'), bytes, async () => {
    // verifyArtifacts: false, or the checksum would refuse every mutation before tfjs sees it.
    const source = await loadModelSource(getPreset(preset), { artifactsRoot: root, verifyArtifacts: false });
    const backend = await (await getBackendFactory('tfjs-cpu')).load(source);
    try {
      const [, h, w, c] = imageInput(source.graph).shape as [number, number, number, number];
      await backend.run({ data: new Float32Array(h * w * c), shape: [1, h, w, c] });
    } finally {
      await backend.dispose();
    }
  });
}

// ---------------------------------------------------------------- npy

function mutateNpy(bytes: Uint8Array, rng: Rng): Mutated {
  if (rng() < 0.5) return stacked(bytes, rng, genericMutation);
  // Header text edits: the dict numpy writes, with hostile shapes, dtypes and versions.
  const headerLen = bytes[8]! | (bytes[9]! << 8);
  const header = Buffer.from(bytes.subarray(10, 10 + headerLen)).toString('latin1');
  const edits: [RegExp, string][] = [
    [/\(\d+, 4\)/, pick(rng, ['(4294967296, 4)', '(-1, 4)', '(896,)', '()', '(0, 4)', '(99999999999, 99999999999)', '(1e3, 4)', '(896, 4, 1, 1, 1)'])],
    [/'<f8'/, pick(rng, ["'<f4'", "'>f8'", "'<i8'", "'|O'", "'<U10'", "''"])],
    [/False/, pick(rng, ['True', 'None', '0'])],
    [/'shape'/, pick(rng, ["'shap'", "'descr'", "'Shape'"])],
    [/\}/, pick(rng, ['', '}}', ", 'extra': 1}"])],
  ];
  const [re, to] = pick(rng, edits);
  const edited = header.replace(re, to);
  const out = rng() < 0.5 ? edited.padEnd(header.length, ' ').slice(0, Math.max(header.length, edited.length)) : edited;
  const result = new Uint8Array(10 + out.length + bytes.byteLength - 10 - headerLen);
  result.set(bytes.subarray(0, 10));
  result[8] = out.length & 0xff;
  result[9] = (out.length >> 8) & 0xff;
  result.set(Buffer.from(out, 'latin1'), 10);
  result.set(bytes.subarray(10 + headerLen), 10 + out.length);
  return { bytes: result, description: `header ${re.source} -> ${to}` };
}

// ---------------------------------------------------------------- cases

/** A case that must be reported as a failure: the harness's own test (test/fuzz.test.ts). */
function selftestCase(index: number): FuzzCase {
  const which = (['ok', 'typed', 'untyped', 'hang', 'blowup'] as const)[index % 5]!;
  return {
    index,
    kind: 'selftest',
    description: `selftest: ${which}`,
    run: async () => {
      const { ToolkitError } = await import('../../src/errors.js');
      if (which === 'typed') throw new ToolkitError('SELFTEST_TYPED', 'a typed error');
      if (which === 'untyped') throw new TypeError('an untyped error');
      if (which === 'hang') for (;;);
      if (which === 'blowup') {
        // Touch every page so the memory is resident, like a decoder filling a huge buffer.
        const hold: Buffer[] = [];
        for (;;) hold.push(Buffer.alloc(32 << 20, 1));
      }
    },
  };
}

export async function makeCase(seed: number, index: number, kinds: readonly Kind[]): Promise<FuzzCase> {
  const kind = kindOf(index, kinds);
  if (kind === 'selftest') return selftestCase(index);
  const rng = mulberry32(caseSeed(seed, index));
  const preset = pick(rng, PACKAGED_PRESETS);
  switch (kind) {
    case 'models': {
      const base = pick(rng, modelCorpus());
      const m = mutateModel(base, rng);
      return { index, kind, description: m.description, input: { name: `${base.preset}.tflite`, bytes: m.bytes }, run: () => runModel(m.bytes, base.preset, rng) };
    }
    case 'images': {
      const { name, m } = await mutateImage(rng);
      return { index, kind, description: `${name}: ${m.description}`, input: { name, bytes: m.bytes }, run: () => runImage(m.bytes, name, rng, preset) };
    }
    case 'artifacts': {
      const root = path.join(REPO_ROOT, 'artifacts');
      if (rng() < 0.5) {
        const m = mutateJson(readFileSync(path.join(root, 'manifest.json'), 'utf8'), rng);
        return { index, kind, description: `manifest.json (verify ${preset}): ${m.description}`, input: { name: 'manifest.json', bytes: m.bytes }, run: () => runManifest(m.bytes, preset) };
      }
      const m = mutateJson(readFileSync(path.join(root, preset, 'tfjs', 'model.json'), 'utf8'), rng);
      return { index, kind, description: `${preset}/tfjs/model.json (tfjs-cpu load + run): ${m.description}`, input: { name: 'model.json', bytes: m.bytes }, run: () => runTfjsModelJson(m.bytes, preset) };
    }
    case 'npy': {
      const { decodeNpy } = await import('../../src/npy.js');
      const file = rng() < 0.5 ? `anchors/${preset}.npy` : `${preset}/anchors.npy`;
      const m = mutateNpy(new Uint8Array(readFileSync(path.join(REPO_ROOT, 'artifacts', file))), rng);
      return { index, kind, description: `${file}: ${m.description}`, input: { name: path.basename(file), bytes: m.bytes }, run: async () => void decodeNpy(m.bytes, file) };
    }
  }
}


/** Build the corpora and load the modules a kind uses before the first case, so no case pays for them. */
export async function warmUp(kinds: readonly Kind[]): Promise<void> {
  if (kinds.includes('models') || kinds.includes('artifacts')) {
    modelCorpus();
    await Promise.all([import('../../src/tflite/reader.js'), import('../../src/reference/runtime.js'), import('../../src/emit/onnx/emit.js'), import('../../src/emit/tfjs/emit.js'), import('../../src/emit/torch/emit.js')]);
  }
  if (kinds.includes('images') || kinds.includes('models')) {
    await imageCorpus();
    await Promise.all([import('../../src/detect/input.js'), import('../../src/detect/letterbox.js')]);
  }
  if (kinds.includes('artifacts')) {
    artifactsRoot();
    await Promise.all([import('../../src/artifacts/manifest.js'), import('../../src/model-source.js'), import('../../src/backends/index.js')]);
  }
  if (kinds.includes('npy')) await import('../../src/npy.js');
}

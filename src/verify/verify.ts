// The parity verifier: for each preset, run every input as one batch through the float64 reference
// and through every available backend, compare (./compare.ts) and collect a ParityReport.
import path from 'node:path';
import type { ArtifactOverrides, Backend, BackendFactory, BackendName, ImageBatch, ModelSource, RawOutputs } from '../backends/backend.js';
import { BACKEND_NAMES } from '../backends/backend.js';
import { getBackendFactory } from '../backends/index.js';
import { ArtifactIntegrityError, BackendUnavailableError } from '../errors.js';
import type { RgbImage } from '../image/pixels.js';
import { loadModelSource } from '../model-source.js';
import { PACKAGED_PRESETS, getPreset } from '../presets/index.js';
import type { Preset, PresetName } from '../presets/types.js';
import { TOOLKIT_NAME, TOOLKIT_VERSION } from '../version.js';
import { REPO_ROOT } from '../fixtures.js';
import { compareOutputs, DEFAULT_TOLERANCES, fmt } from './compare.js';
import { errText, int8Text, verdictOf } from './report-text.js';
import { presetDecoder, VERIFY_NMS_FLAVOUR } from './decode.js';
import { checkDecodedOnnx } from './decoded-onnx.js';
import { checkInt8Onnx } from './int8.js';
import { loadVerifyInputs, prepareInputs, type InputOptions, type VerifyInput } from './inputs.js';
import type {
  BackendReport,
  BackendRun,
  BackendTiming,
  DecodedOnnxReport,
  DetectionRecord,
  InputResult,
  Int8Report,
  ParityReport,
  PresetReport,
  ReferenceRun,
  Tolerances,
} from './report-types.js';
import { PARITY_REPORT_SCHEMA_VERSION } from './report-types.js';

/** Paths in reports are relative to the toolkit's root, so a committed report does not name one machine's folders. */
function portablePath(text: string): string {
  return text.split(`${REPO_ROOT}${path.sep}`).join('');
}

export interface VerifyOptions {
  /** Default: the packaged presets (short_range, full_range, full_range_sparse). */
  presets?: readonly PresetName[];
  /** Backends compared with the reference (default: every backend but the reference itself). */
  backends?: readonly BackendName[];
  tolerances?: Partial<Tolerances>;
  /** Ready inputs, or options to build them (default: seed photos, tfjs-models face, 8 random). */
  inputs?: readonly VerifyInput[] | InputOptions;
  /** Timed runs per backend after the compared run (default 3). */
  runs?: number;
  artifactsRoot?: string;
  /** .tflite per preset (needed for the user presets front/back). */
  modelFiles?: Partial<Record<PresetName, string>>;
  /** In-memory artifacts per preset (tests). */
  overrides?: Partial<Record<PresetName, ArtifactOverrides>>;
  /** Progress lines, one per preset/backend. */
  log?: (line: string) => void;
  /** Backend registry lookup (default: src/backends/index.ts); tests substitute in-memory backends. */
  getFactory?: (name: BackendName) => Promise<BackendFactory>;
  /** In-memory model_int8.onnx per preset (tests); default: the preset's file when there is one. */
  int8Models?: Partial<Record<PresetName, Uint8Array>>;
  /** More rows per preset after the registry's backends (the browser backends of `verify --browser`). */
  extraBackends?: (ctx: ExtraBackendsContext) => Promise<BackendReport[]>;
}

/** What a preset's extra rows are compared with: the same batch, reference outputs and decoder. */
export interface ExtraBackendsContext {
  readonly preset: Preset;
  readonly source: ModelSource;
  readonly inputs: readonly VerifyInput[];
  readonly batch: ImageBatch;
  readonly ref: RawOutputs;
  readonly tolerances: Tolerances;
  readonly runs: number;
  readonly decode: (raw: RawOutputs) => DetectionRecord[][];
  readonly refDetections: DetectionRecord[][];
}

export interface VerifyResult {
  report: ParityReport;
  /** The pixels every input contributed, per preset, at the preset's input size (for the HTML overlays). */
  images: Map<string, RgbImage[]>;
}

/** A run slower than this is not repeated for timing (the float64 oracle on a big batch). */
const SLOW_RUN_MS = 1500;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function timedRun(backend: Backend, batch: ImageBatch): Promise<{ out: RawOutputs; ms: number }> {
  const t0 = performance.now();
  const out = await backend.run(batch);
  return { out, ms: performance.now() - t0 };
}

/** Timing of a backend: the compared run warms it up, then `runs` more runs give the median. */
async function measure(backend: Backend, batch: ImageBatch, firstMs: number, loadMs: number, runs: number): Promise<BackendTiming> {
  const times: number[] = [];
  if (firstMs < SLOW_RUN_MS) {
    for (let i = 0; i < runs; i++) times.push((await timedRun(backend, batch)).ms);
  }
  return measureTimes(times, firstMs, loadMs, batch.shape[0]);
}

/** Median of the timed runs, or the first (warm-up) run when none was repeated. */
export function measureTimes(timed: readonly number[], firstMs: number, loadMs: number, batchSize: number): BackendTiming {
  const warmupIncluded = timed.length === 0;
  const times = warmupIncluded ? [firstMs] : [...timed].sort((a, b) => a - b);
  const mid = times.length >> 1;
  const msPerRun = times.length % 2 === 1 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { loadMs, msPerRun, msPerImage: msPerRun / batchSize, runs: times.length, warmupIncluded };
}

export function worstOf(inputs: readonly InputResult[]): BackendRun['worst'] {
  let worst: BackendRun['worst'] = { input: inputs[0]?.input ?? '', tensor: 'regressors', maxErr: 0, maxAbs: 0, at: null };
  let worstKey = -1;
  for (const r of inputs) {
    for (const tensor of ['regressors', 'classificators'] as const) {
      const s = r[tensor];
      // A non-finite output (maxErr null) is the worst possible.
      const key = s.maxErr === null ? Infinity : s.maxErr;
      if (key > worstKey) {
        worstKey = key;
        worst = { input: r.input, tensor, maxErr: s.maxErr, maxAbs: s.maxAbs, at: s.at };
      }
    }
  }
  return worst;
}

export function worstDetectionOf(inputs: readonly InputResult[]): BackendRun['worstDetection'] {
  let maxCoordDiff = 0;
  let maxScoreDiff = 0;
  let countMismatches = 0;
  for (const r of inputs) {
    if (!r.detections) continue;
    maxCoordDiff = Math.max(maxCoordDiff, r.detections.maxCoordDiff);
    maxScoreDiff = Math.max(maxScoreDiff, r.detections.maxScoreDiff);
    if (!r.detections.countEqual) countMismatches++;
  }
  return { maxCoordDiff, maxScoreDiff, countMismatches };
}

async function loadSource(
  preset: Preset,
  options: VerifyOptions,
): Promise<{ source: ModelSource; integrityError: string | null }> {
  const base = {
    modelFile: options.modelFiles?.[preset.name],
    artifactsRoot: options.artifactsRoot,
    overrides: options.overrides?.[preset.name],
  };
  try {
    return { source: await loadModelSource(preset, base), integrityError: null };
  } catch (err) {
    if (!(err instanceof ArtifactIntegrityError)) throw err;
    // A stale or missing manifest is reported, not fatal: parity with the reference is what proves an
    // artifact right, and the reference and tflite read only the .tflite anyway.
    return { source: await loadModelSource(preset, { ...base, verifyArtifacts: false }), integrityError: err.message };
  }
}

async function verifyBackend(
  name: BackendName,
  source: ModelSource,
  batch: ImageBatch,
  ref: RawOutputs,
  ctx: {
    preset: string;
    inputs: readonly VerifyInput[];
    tolerances: Tolerances;
    runs: number;
    decode: (raw: RawOutputs) => DetectionRecord[][];
    refDetections: DetectionRecord[][];
    getFactory: (name: BackendName) => Promise<BackendFactory>;
  },
): Promise<BackendReport> {
  const factory = await ctx.getFactory(name);
  const availability = await factory.availability();
  if (!availability.available) return { backend: name, status: 'unavailable', reason: availability.reason };
  const label = `${ctx.preset} / ${name}`;
  let backend: Backend;
  const t0 = performance.now();
  try {
    backend = await factory.load(source);
  } catch (err) {
    // The runtime is here but cannot hold this preset (e.g. torch without a module layout for it).
    if (err instanceof BackendUnavailableError) return { backend: name, status: 'unavailable', reason: err.message };
    const error = errorText(err);
    return { backend: name, status: 'error', stage: 'load', error, failures: [`${label}: cannot load: ${error}`] };
  }
  const loadMs = performance.now() - t0;
  try {
    let first: { out: RawOutputs; ms: number };
    try {
      first = await timedRun(backend, batch);
    } catch (err) {
      const error = errorText(err);
      return { backend: name, status: 'error', stage: 'run', error, failures: [`${label}: run failed: ${error}`] };
    }
    const comparison = compareOutputs(ref, first.out, ctx.inputs, ctx.tolerances, {
      preset: ctx.preset,
      backend: name,
      decode: ctx.decode,
      refDetections: ctx.refDetections,
    });
    const timing = await measure(backend, batch, first.ms, loadMs, ctx.runs);
    return {
      backend: name,
      status: comparison.pass ? 'pass' : 'fail',
      version: backend.version,
      runs: factory.runs,
      artifact: portablePath(backend.artifact),
      notes: backend.notes.map(portablePath),
      batch: batch.shape[0],
      timing,
      worst: worstOf(comparison.inputs),
      worstDetection: worstDetectionOf(comparison.inputs),
      inputs: comparison.inputs,
      detections: comparison.gotDetections ?? [],
      failures: comparison.failures,
    };
  } finally {
    await backend.dispose();
  }
}

/** One progress line per preset/backend. */
export function progressLine(preset: string, b: BackendReport | (ReferenceRun & { status?: undefined })): string {
  const head = `${preset.padEnd(17)} ${b.backend.padEnd(16)}`;
  if (b.backend === 'reference' && b.status === undefined) {
    return `${head} oracle  ${fmt(b.timing.msPerRun)} ms/run  ${b.version}`;
  }
  switch (b.status) {
    case 'unavailable':
      return `${head} n/a     ${b.reason}`;
    case 'error':
      return `${head} ERROR   ${b.stage}: ${b.error.split('\n')[0]}`;
    case 'pass':
    case 'fail': {
      const err = b.worst.maxErr === null ? 'non-finite' : fmt(b.worst.maxErr);
      return `${head} ${b.status === 'pass' ? 'PASS' : 'FAIL'}    max_err ${err}  ${fmt(b.timing.msPerRun)} ms/run (N=${b.batch})  ${b.version}`;
    }
    default:
      return head;
  }
}

/** The progress line of the model_decoded.onnx check. */
export function decodedProgressLine(preset: string, d: DecodedOnnxReport): string {
  const head = `${preset.padEnd(17)} ${'decoded onnx'.padEnd(16)} ${verdictOf(d).padEnd(7)}`;
  if (d.status === 'unavailable' || d.status === 'error') return `${head} ${d.reason ?? ''}`;
  return `${head} coords ${errText(d.maxCoordDiff)}  scores ${errText(d.maxScoreDiff)}  vs the TS decode of model.onnx`;
}

/** The progress line of the model_int8.onnx verdict. */
export function int8ProgressLine(preset: string, r: Int8Report): string {
  const head = `${preset.padEnd(17)} ${'int8 onnx'.padEnd(16)} ${verdictOf(r).padEnd(7)}`;
  if (r.status === 'unavailable' || r.status === 'error') return `${head} ${r.reason ?? ''}`;
  return `${head} ${int8Text(r)}`;
}

export async function verifyPreset(
  preset: Preset,
  inputs: readonly VerifyInput[],
  options: VerifyOptions,
  tolerances: Tolerances,
): Promise<{ report: PresetReport; images: RgbImage[] }> {
  const log = options.log ?? (() => {});
  const runs = options.runs ?? 3;
  const getFactory = options.getFactory ?? getBackendFactory;
  const backends = (options.backends ?? BACKEND_NAMES).filter((b) => b !== 'reference');
  const { images, batch } = await prepareInputs(inputs, preset);
  const report: PresetReport = {
    preset: preset.name,
    description: preset.description,
    inputWidth: preset.inputWidth,
    inputHeight: preset.inputHeight,
    numAnchors: preset.decode.numBoxes,
    model: { fileName: '', sha256: '' },
    decode: { minScoreThresh: preset.decode.minScoreThresh, nms: VERIFY_NMS_FLAVOUR, minSuppressionThreshold: preset.nms.minSuppressionThreshold },
    reference: null,
    error: null,
    artifactWarning: null,
    backends: [],
    decodedOnnx: null,
    pass: false,
  };

  let source: ModelSource;
  let refOut: RawOutputs;
  try {
    const loaded = await loadSource(preset, options);
    source = loaded.source;
    report.artifactWarning = loaded.integrityError;
    report.model = { fileName: source.graph.source.fileName, sha256: source.graph.source.sha256 };
    const factory = await getFactory('reference');
    const t0 = performance.now();
    const reference = await factory.load(source);
    const loadMs = performance.now() - t0;
    try {
      const first = await timedRun(reference, batch);
      refOut = first.out;
      report.reference = {
        backend: 'reference',
        version: reference.version,
        artifact: portablePath(reference.artifact),
        notes: reference.notes.map(portablePath),
        timing: await measure(reference, batch, first.ms, loadMs, runs),
        detections: [],
      };
    } finally {
      await reference.dispose();
    }
  } catch (err) {
    report.error = `cannot run the reference: ${errorText(err)}`;
    log(`${preset.name.padEnd(17)} ${'reference'.padEnd(16)} ERROR   ${report.error}`);
    return { report, images };
  }

  const decode = presetDecoder(preset);
  const refDetections = decode(refOut);
  report.reference.detections = refDetections;
  log(progressLine(preset.name, report.reference));
  if (report.artifactWarning) log(`${preset.name.padEnd(17)} ${'artifacts'.padEnd(16)} WARN    ${report.artifactWarning}`);

  for (const name of backends) {
    let result: BackendReport;
    try {
      result = await verifyBackend(name, source, batch, refOut, { preset: preset.name, inputs, tolerances, runs, decode, refDetections, getFactory });
    } catch (err) {
      // availability() itself or the comparison threw: still one row, never an aborted report.
      const error = errorText(err);
      result = { backend: name, status: 'error', stage: 'load', error, failures: [`${preset.name} / ${name}: ${error}`] };
    }
    report.backends.push(result);
    log(progressLine(preset.name, result));
  }
  if (options.extraBackends) {
    const rows = await options.extraBackends({ preset, source, inputs, batch, ref: refOut, tolerances, runs, decode, refDetections });
    for (const row of rows) {
      report.backends.push(row);
      log(progressLine(preset.name, row));
    }
  }
  const decoded = await checkDecodedOnnx(source, batch, inputs.map((i) => i.name), tolerances);
  report.decodedOnnx = { ...decoded, artifact: portablePath(decoded.artifact), reason: decoded.reason && portablePath(decoded.reason), failures: decoded.failures.map(portablePath) };
  log(decodedProgressLine(preset.name, report.decodedOnnx));
  const int8 = await checkInt8Onnx(source, { batch, inputs, refDetections, decode, runs, bytes: options.int8Models?.[preset.name] });
  report.int8 = { ...int8, artifact: portablePath(int8.artifact), reason: int8.reason && portablePath(int8.reason) };
  log(int8ProgressLine(preset.name, report.int8));
  report.pass =
    report.error === null &&
    report.backends.every((b) => b.status === 'pass' || b.status === 'unavailable') &&
    (report.decodedOnnx.status === 'pass' || report.decodedOnnx.status === 'unavailable') &&
    (report.int8.status === 'pass' || report.int8.status === 'unavailable');
  return { report, images };
}

export function resolveTolerances(partial: Partial<Tolerances> = {}): Tolerances {
  const t = { ...DEFAULT_TOLERANCES, ...partial };
  for (const [k, v] of Object.entries(t)) {
    if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new Error(`tolerance ${k} must be a finite number >= 0, got ${String(v)}`);
  }
  return t;
}

/** Run the whole check and build the report (nothing is written; see ./write.ts). */
export async function runVerify(options: VerifyOptions = {}): Promise<VerifyResult> {
  const tolerances = resolveTolerances(options.tolerances);
  const inputs = Array.isArray(options.inputs)
    ? (options.inputs as readonly VerifyInput[])
    : await loadVerifyInputs(options.inputs as InputOptions | undefined);
  if (inputs.length === 0) throw new Error('verify: no inputs');
  const presets = (options.presets ?? PACKAGED_PRESETS).map((p) => getPreset(p));
  const images = new Map<string, RgbImage[]>();
  const presetReports: PresetReport[] = [];
  for (const preset of presets) {
    const { report, images: imgs } = await verifyPreset(preset, inputs, options, tolerances);
    presetReports.push(report);
    images.set(preset.name, imgs);
  }
  let passed = 0;
  let failed = 0;
  let unavailable = 0;
  const failures: string[] = [];
  for (const p of presetReports) {
    if (p.error) failures.push(`${p.preset}: ${p.error}`);
    // The model_decoded.onnx check is not a (preset, backend) pair: not counted, but its failures fail the run.
    if (p.decodedOnnx) failures.push(...p.decodedOnnx.failures);
    if (p.int8) failures.push(...p.int8.failures);
    for (const b of p.backends) {
      if (b.status === 'pass') passed++;
      else if (b.status === 'unavailable') unavailable++;
      else {
        failed++;
        failures.push(...b.failures);
      }
    }
  }
  const report: ParityReport = {
    schemaVersion: PARITY_REPORT_SCHEMA_VERSION,
    tool: { name: TOOLKIT_NAME, version: TOOLKIT_VERSION },
    tolerances,
    inputs: inputs.map((input, index) => ({ index, name: input.name, kind: input.kind, origin: input.origin })),
    presets: presetReports,
    summary: { pass: failures.length === 0 && presetReports.every((p) => p.pass), passed, failed, unavailable, failures },
  };
  return { report, images };
}

// TensorFlow.js backends: the emitted graph-model (artifacts/<preset>/tfjs/) run by tfjs-converter's
// GraphModel on the wasm backend (XNNPACK, non-threaded), the plain-JS cpu backend, or tfjs-node when
// it happens to be installed (optional: its install downloads libtensorflow, so it is never a dependency).
//
// tfjs keeps ONE global active backend per process. Every load and run here first selects its own
// backend and all tfjs work from these factories is serialized through one queue, so tfjs-cpu,
// tfjs-wasm (and tfjs-node) instances can be created and run interleaved in one process. Each model's
// weights are created on its own backend and stay there. Code outside these factories that calls
// tf.setBackend concurrently with a run is not protected.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, version_converter, type GraphModel } from '@tensorflow/tfjs-converter';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { checkAgainstSource, type ReportedDim } from '../artifacts/signature.js';
import { ArtifactIntegrityError, BackendError, BackendUnavailableError, ToolkitError } from '../errors.js';
import { detectorOutputs, imageInput } from '../ir/graph.js';
import { tfjsFileHandler, tfjsMemoryHandler } from '../emit/tfjs/io.js';
import { INPUT_NAME, OUTPUT_NAMES } from '../emit/tfjs/emit.js';
import { planAndCheck, runGraphModel, withTopologyCapture, type TfjsPlan } from '../emit/tfjs/runner.js';
import { installedPackageVersion } from '../version.js';
import { checkImageBatch } from '../ir/batch.js';
import { listedArtifact } from './artifact-files.js';
import type { Availability, Backend, BackendFactory, BackendName, ImageBatch, ModelSource, RawOutputs } from './backend.js';

const require = createRequire(import.meta.url);

// ---- one queue for all tfjs work (the active backend is process-global) ----
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function activate(tfBackend: string, label: BackendName): Promise<void> {
  // engine().backendName is null until a backend is chosen; tf.getBackend() would pick one itself.
  if (tf.engine().backendName === tfBackend) return;
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend(tfBackend);
  } catch (err) {
    cause = err;
  }
  if (!ok) {
    const why = cause instanceof Error ? cause.message : cause !== undefined ? JSON.stringify(cause) : 'tf.setBackend returned false';
    throw new BackendUnavailableError('TFJS_BACKEND_INIT', `${label}: tfjs backend '${tfBackend}' failed to initialize (${why})`, { cause });
  }
}

// ---- wasm binaries from the installed package, read from disk by emscripten (no fetch) ----
const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;
let wasmSetup: { dir: string } | { error: string } | null = null;

function setupWasm(): { dir: string } | { error: string } {
  if (wasmSetup) return wasmSetup;
  try {
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    const missing = WASM_BINARIES.slice(0, 2).filter((f) => !existsSync(path.join(dir, f)));
    if (missing.length) {
      wasmSetup = { error: `missing ${missing.join(', ')} in ${dir}` };
    } else {
      // Absolute paths per binary. Under Node tfjs never picks the threaded build (its
      // WASM_HAS_MULTITHREAD_SUPPORT flag is false there); SIMD vs plain follows WASM_HAS_SIMD_SUPPORT.
      setWasmPaths(Object.fromEntries(WASM_BINARIES.map((f) => [f, path.join(dir, f)])));
      wasmSetup = { dir };
    }
  } catch (err) {
    wasmSetup = { error: (err as Error).message };
  }
  return wasmSetup;
}

// ---- the model wrapper shared by all three ----
interface TfjsRuntime {
  readonly name: BackendName;
  /** Name of the backend in tfjs's registry. */
  readonly tfBackend: string;
  readonly version: () => string;
  readonly extraNotes: () => Promise<string[]>;
}

class TfjsGraphModelBackend implements Backend {
  constructor(
    private readonly runtime: TfjsRuntime,
    private readonly model: GraphModel,
    /** The lean kernel sequence over model.json, or null when the graph needs GraphModel.execute. */
    private readonly plan: TfjsPlan | null,
    private readonly source: ModelSource,
    readonly version: string,
    readonly artifact: string,
    readonly notes: readonly string[],
  ) {}

  get name(): BackendName {
    return this.runtime.name;
  }

  async run(batch: ImageBatch): Promise<RawOutputs> {
    const n = checkImageBatch(this.source.graph, batch, `${this.name} (${this.source.preset.name})`);
    const outs = detectorOutputs(this.source.graph);
    const numAnchors = outs.regressors.shape[1]!;
    const numCoords = outs.regressors.shape[2]!;
    return serialized(async () => {
      await activate(this.runtime.tfBackend, this.name);
      const expected = { batch: n, numAnchors, numCoords };
      return runGraphModel(tf, this.model, this.plan, INPUT_NAME, OUTPUT_NAMES, batch, { artifact: this.artifact, name: this.name, expected, readSync: true });
    });
  }

  async dispose(): Promise<void> {
    await serialized(async () => this.model.dispose());
  }
}

/** model.json and its shards from the verified artifacts; null without verification. Unlisted shards are refused. */
function verifiedHandler(source: ModelSource, runtime: BackendName): ReturnType<typeof tfjsMemoryHandler> | null {
  const json = listedArtifact(source, 'tfjs/model.json', runtime);
  if (!json) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json.bytes));
  } catch (err) {
    throw new ArtifactIntegrityError('ARTIFACT_INVALID', `${json.file}: not valid JSON (${(err as Error).message}); run \`npm run convert\``, { file: json.file, cause: err });
  }
  const groups = (parsed as { weightsManifest?: unknown }).weightsManifest;
  const shardNames = Array.isArray(groups) ? groups.flatMap((g) => (Array.isArray((g as { paths?: unknown }).paths) ? ((g as { paths: unknown[] }).paths) : [])) : [];
  const shards = shardNames.map((p) => {
    if (typeof p !== 'string' || p === '' || p !== path.basename(p) || p.startsWith('.')) {
      throw new ArtifactIntegrityError('ARTIFACT_INVALID', `${json.file}: weight shard path ${JSON.stringify(p)} is not a plain file name next to model.json`, { file: json.file });
    }
    return listedArtifact(source, `tfjs/${p}`, runtime)!.bytes;
  });
  const weights = new Uint8Array(shards.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of shards) {
    weights.set(b, offset);
    offset += b.byteLength;
  }
  return tfjsMemoryHandler(parsed, weights, json.file);
}

/** Shape dims from a TF signature entry ({ tensorShape: { dim: [{ size: '-1' }, ...] } }), when present. */
function signatureDims(entry: unknown): ReportedDim[] | undefined {
  const dims = (entry as { tensorShape?: { dim?: unknown[] } } | undefined)?.tensorShape?.dim;
  // A hostile model.json may hold anything here: a dim that is not { size } counts as unknown.
  const size = (d: unknown) => (d !== null && typeof d === 'object' ? (d as { size?: unknown }).size : undefined);
  return Array.isArray(dims) ? dims.map((d) => (size(d) === undefined ? null : Number(size(d)))) : undefined;
}

/** Before the first run: the graph model's input and output names, and their shapes where it declares them. */
function checkTfjsSignature(model: GraphModel, source: ModelSource, label: string, runtime: BackendName): void {
  const inputs = model.inputs.map((t) => t.name);
  const outputs = model.outputs.map((t) => t.name);
  if (!inputs.includes(INPUT_NAME) || !OUTPUT_NAMES.every((n) => outputs.includes(n))) {
    throw new ArtifactIntegrityError(
      'ARTIFACT_SHAPE_MISMATCH',
      `${label}: ${runtime} reports inputs [${inputs.join(', ')}] and outputs [${outputs.join(', ')}], expected [${INPUT_NAME}] and [${OUTPUT_NAMES.join(', ')}]`,
      { file: label },
    );
  }
  const signature = (model.modelSignature ?? {}) as { outputs?: Record<string, unknown> };
  checkAgainstSource(
    source,
    {
      input: model.inputs.find((t) => t.name === INPUT_NAME)?.shape,
      regressors: signatureDims(signature.outputs?.regressors),
      classificators: signatureDims(signature.outputs?.classificators),
    },
    label,
    runtime,
  );
}

function makeFactory(runtime: TfjsRuntime, availability: () => Promise<Availability>, prepare: () => Promise<void>): BackendFactory {
  return {
    name: runtime.name,
    runs: 'tfjs/model.json',
    availability,
    async load(source: ModelSource): Promise<Backend> {
      const avail = await availability();
      if (!avail.available) throw new BackendUnavailableError('BACKEND_UNAVAILABLE', `${runtime.name}: ${avail.reason}`);
      await prepare();
      const override = source.overrides?.tfjs;
      const modelJsonPath = path.join(source.artifactsDir, 'tfjs', 'model.json');
      const handler = override
        ? tfjsMemoryHandler(override.modelJson, override.weights, `in-memory tfjs model for ${source.preset.name}`)
        : (verifiedHandler(source, runtime.name) ?? tfjsFileHandler(path.dirname(modelJsonPath)));
      const label = override ? `in-memory tfjs model for ${source.preset.name}` : modelJsonPath;
      const captured = withTopologyCapture(handler);
      const model = await serialized(async () => {
        await activate(runtime.tfBackend, runtime.name);
        try {
          return await loadGraphModel(captured.handler);
        } catch (err) {
          if (err instanceof ToolkitError) throw err;
          throw new BackendError('BACKEND_LOAD_FAILED', `${label}: ${runtime.name} could not load the graph model (${err instanceof Error ? err.message : String(err)})`, {
            file: label,
            cause: err,
          });
        }
      });
      try {
        checkTfjsSignature(model, source, label, runtime.name);
      } catch (err) {
        await serialized(async () => model.dispose());
        throw err;
      }
      const meta = (model.metadata ?? {}) as { weightStorage?: string };
      const { plan, note } = await serialized(async () => {
        await activate(runtime.tfBackend, runtime.name);
        return planAndCheck(tf, model, captured.topology(), INPUT_NAME, OUTPUT_NAMES, imageInput(source.graph).shape.map((d, i) => (i === 0 ? 1 : d)));
      });
      const notes = [
        note,
        `graph-model weights stored as ${meta.weightStorage ?? 'unknown'}${meta.weightStorage === 'float16' ? ' (widened to float32 at load)' : ''}`,
        'any batch N in one call (input [-1,H,W,3])',
        'tfjs has one global backend: each run selects this one first; tfjs runs are serialized',
        ...(await runtime.extraNotes()),
      ];
      const artifact = override ? `in-memory tfjs model (${override.weights.byteLength} bytes of weights)` : modelJsonPath;
      return new TfjsGraphModelBackend(runtime, model, plan, source, runtime.version(), artifact, notes);
    },
  };
}

const coreVersions = `tfjs-core ${tf.version_core}, tfjs-converter ${version_converter}`;

export const tfjsWasmBackend: BackendFactory = makeFactory(
  {
    name: 'tfjs-wasm',
    tfBackend: 'wasm',
    version: () => `@tensorflow/tfjs-backend-wasm ${version_wasm} (${coreVersions})`,
    extraNotes: async () => {
      const setup = setupWasm();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const file = simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
      return ['dir' in setup ? `wasm binary ${path.join(setup.dir, file)} (non-threaded)` : `wasm setup failed: ${setup.error}`];
    },
  },
  async () => {
    const setup = setupWasm();
    return 'dir' in setup ? { available: true } : { available: false, reason: `tfjs wasm binaries not found: ${setup.error}` };
  },
  async () => {
    setupWasm();
  },
);

export const tfjsCpuBackend: BackendFactory = makeFactory(
  {
    name: 'tfjs-cpu',
    tfBackend: 'cpu',
    version: () => `@tensorflow/tfjs-backend-cpu ${version_cpu} (${coreVersions})`,
    extraNotes: async () => ['plain JavaScript kernels (float32)'],
  },
  async () => ({ available: true }),
  async () => {},
);

// ---- tfjs-node: optional, detected by a guarded dynamic import ----
const TFJS_NODE = '@tensorflow/tfjs-node';
let tfjsNodeProbe: Promise<Availability> | null = null;

function probeTfjsNode(): Promise<Availability> {
  tfjsNodeProbe ??= (async (): Promise<Availability> => {
    try {
      require.resolve(TFJS_NODE);
    } catch {
      return { available: false, reason: '@tensorflow/tfjs-node is not installed (optional; its install downloads libtensorflow)' };
    }
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the package to exist.
      const spec: string = TFJS_NODE;
      await import(spec);
    } catch (err) {
      return { available: false, reason: `@tensorflow/tfjs-node is installed but failed to load: ${(err as Error).message}` };
    }
    if (!tf.findBackendFactory('tensorflow')) {
      return {
        available: false,
        reason: "@tensorflow/tfjs-node registered its 'tensorflow' backend with a different @tensorflow/tfjs-core copy than this toolkit's",
      };
    }
    return { available: true };
  })();
  return tfjsNodeProbe;
}

function tfjsNodeVersion(): string {
  return `${TFJS_NODE} ${installedPackageVersion(TFJS_NODE) ?? 'unknown'} (${coreVersions})`;
}

export const tfjsNodeBackend: BackendFactory = makeFactory(
  {
    name: 'tfjs-node',
    tfBackend: 'tensorflow',
    version: tfjsNodeVersion,
    extraNotes: async () => ['libtensorflow kernels via @tensorflow/tfjs-node'],
  },
  probeTfjsNode,
  async () => {},
);

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
import { BackendUnavailableError } from '../errors.js';
import { detectorOutputs } from '../ir/graph.js';
import { tfjsFileHandler, tfjsMemoryHandler } from '../emit/tfjs/io.js';
import { INPUT_NAME, OUTPUT_NAMES } from '../emit/tfjs/emit.js';
import { installedPackageVersion } from '../version.js';
import { checkImageBatch } from '../ir/batch.js';
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
      const x = tf.tensor4d(batch.data, [...batch.shape], 'float32');
      let results: tf.Tensor[] = [];
      try {
        results = this.model.execute({ [INPUT_NAME]: x }, [...OUTPUT_NAMES]) as tf.Tensor[];
        const [reg, cls] = results as [tf.Tensor, tf.Tensor];
        const expect = (t: tf.Tensor, shape: number[], what: string): void => {
          if (t.shape.join(',') !== shape.join(',')) {
            throw new Error(`${this.name}: ${what} has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
          }
        };
        expect(reg, [n, numAnchors, numCoords], 'regressors');
        expect(cls, [n, numAnchors, 1], 'classificators');
        const [regressors, classificators] = (await Promise.all([reg.data(), cls.data()])) as [Float32Array, Float32Array];
        return { regressors, classificators, batch: n, numAnchors, numCoords };
      } finally {
        x.dispose();
        for (const t of results) t.dispose();
      }
    });
  }

  async dispose(): Promise<void> {
    await serialized(async () => this.model.dispose());
  }
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
        : tfjsFileHandler(path.dirname(modelJsonPath));
      const model = await serialized(async () => {
        await activate(runtime.tfBackend, runtime.name);
        return loadGraphModel(handler);
      });
      const meta = (model.metadata ?? {}) as { weightStorage?: string };
      const notes = [
        `graph-model weights stored as ${meta.weightStorage ?? 'unknown'}${meta.weightStorage === 'float16' ? ' (widened to float32 at load)' : ''}`,
        'any batch N in one call (input [-1,H,W,3])',
        'tfjs has one global backend: each run selects this one first; tfjs runs are serialized',
        ...(await runtime.extraNotes()),
      ];
      const artifact = override ? `in-memory tfjs model (${override.weights.byteLength} bytes of weights)` : modelJsonPath;
      return new TfjsGraphModelBackend(runtime, model, source, runtime.version(), artifact, notes);
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

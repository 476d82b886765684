// TensorFlow.js in the browser: the emitted graph-model (artifacts/<preset>/tfjs/) on the webgl, wasm,
// cpu or webgpu backend. model.json and its shards are fetched and checked against the manifest, then
// handed to tfjs from memory. tfjs has one global active backend per page, so every load and run
// selects its own backend first and all tfjs work here goes through one queue.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Availability, ImageBatch, RawOutputs } from '../../backends/backend.js';
import { ArtifactIntegrityError, BackendUnavailableError } from '../../errors.js';
import type { BrowserBackend, BrowserBackendFactory, BrowserBackendName, BrowserLoadContext } from './types.js';
import { checkBrowserBatch, outputDims, requireWasmPath } from './types.js';
import { checkModelJson } from '../../emit/tfjs/model-json.js';
import { planAndCheck, runGraphModel, type TfjsNode, type TfjsPlan } from '../../emit/tfjs/runner.js';

/** Names fixed by the tfjs emitter (src/emit/tfjs/emit.ts). */
const INPUT_NAME = 'input';
const OUTPUT_NAMES = ['regressors', 'classificators'];

type Tf = typeof import('@tensorflow/tfjs-core');
let tfPromise: Promise<{ tf: Tf; loadGraphModel: typeof import('@tensorflow/tfjs-converter').loadGraphModel; converter: string }> | null = null;
function tfjs() {
  tfPromise ??= Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-converter')]).then(([tf, conv]) => ({
    tf,
    loadGraphModel: conv.loadGraphModel,
    converter: conv.version_converter,
  }));
  return tfPromise;
}

let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function activate(tf: Tf, tfBackend: string, label: string): Promise<void> {
  if (tf.engine().backendName === tfBackend) return;
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend(tfBackend);
    await tf.ready();
  } catch (err) {
    cause = err;
  }
  if (!ok) {
    const why = cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : 'tf.setBackend returned false';
    throw new BackendUnavailableError('TFJS_BACKEND_INIT', `${label}: tfjs backend '${tfBackend}' failed to initialize (${why})`, { cause });
  }
}

interface Runtime {
  readonly name: BrowserBackendName;
  readonly tfBackend: string;
  /** Imports the backend package (registers it with tfjs-core); returns its version. */
  register(ctx: BrowserLoadContext): Promise<string>;
  availability(): Promise<Availability>;
  notes(tf: Tf): string[];
}

/** model.json + shards, verified, as a tfjs in-memory model. */
async function fetchModel(ctx: BrowserLoadContext): Promise<{ artifacts: import('@tensorflow/tfjs-core').io.ModelArtifacts; url: string; storage: string }> {
  const json = await ctx.artifacts.file('tfjs/model.json');
  let model: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: import('@tensorflow/tfjs-core').io.WeightsManifestEntry[] }[]; format?: string; userDefinedMetadata?: { weightStorage?: string }; signature?: unknown };
  try {
    model = JSON.parse(new TextDecoder().decode(json.bytes));
  } catch (err) {
    throw new ArtifactIntegrityError('TFJS_MODEL_JSON', `${json.url}: not JSON (${(err as Error).message})`, { file: json.url, cause: err });
  }
  // The same model.json checks as under Node (format, manifest, shard names, int attributes).
  const { manifest } = checkModelJson(model, json.url);
  const shards: Uint8Array[] = [];
  for (const group of manifest) for (const p of group.paths) shards.push((await ctx.artifacts.file(`tfjs/${p}`)).bytes);
  const total = shards.reduce((a, s) => a + s.byteLength, 0);
  const weightData = new Uint8Array(total);
  let o = 0;
  for (const s of shards) {
    weightData.set(s, o);
    o += s.byteLength;
  }
  return {
    artifacts: {
      modelTopology: model.modelTopology as object,
      weightSpecs: manifest.flatMap((g) => g.weights),
      weightData: weightData.buffer,
      format: model.format,
      signature: model.signature as object,
      userDefinedMetadata: model.userDefinedMetadata as { [key: string]: {} },
    },
    url: json.url,
    storage: model.userDefinedMetadata?.weightStorage ?? 'unknown',
  };
}

class TfjsBrowserBackend implements BrowserBackend {
  constructor(
    private readonly runtime: Runtime,
    private readonly tf: Tf,
    private readonly model: GraphModel,
    /** The lean kernel sequence over model.json (shared with Node), or null when the graph needs GraphModel.execute. */
    private readonly plan: TfjsPlan | null,
    private readonly ctx: BrowserLoadContext,
    readonly version: string,
    readonly artifact: string,
    readonly notes: readonly string[],
  ) {}

  get name(): BrowserBackendName {
    return this.runtime.name;
  }

  run(batch: ImageBatch): Promise<RawOutputs> {
    const n = checkBrowserBatch(this.ctx.preset, batch, this.name);
    const { numAnchors, numCoords } = outputDims(this.ctx.preset);
    const tf = this.tf;
    return serialized(async () => {
      await activate(tf, this.runtime.tfBackend, this.name);
      const expected = { batch: n, numAnchors, numCoords };
      return runGraphModel(tf, this.model, this.plan, INPUT_NAME, OUTPUT_NAMES, batch, { artifact: this.artifact, name: this.name, expected, readSync: false });
    });
  }

  async dispose(): Promise<void> {
    await serialized(async () => this.model.dispose());
  }
}

function makeFactory(runtime: Runtime): BrowserBackendFactory {
  return {
    name: runtime.name,
    runs: 'tfjs/model.json',
    availability: runtime.availability,
    async load(ctx) {
      const avail = await runtime.availability();
      if (!avail.available) throw new BackendUnavailableError('BACKEND_UNAVAILABLE', `${runtime.name}: ${avail.reason}`);
      const { tf, loadGraphModel, converter } = await tfjs();
      const pkgVersion = await runtime.register(ctx);
      const { artifacts, url, storage } = await fetchModel(ctx);
      const { model, plan, note } = await serialized(async () => {
        await activate(tf, runtime.tfBackend, runtime.name);
        const model = await loadGraphModel(tf.io.fromMemory(artifacts));
        const shape = [1, ctx.preset.inputHeight, ctx.preset.inputWidth, 3];
        return { model, ...planAndCheck(tf, model, artifacts.modelTopology as { node?: TfjsNode[] }, INPUT_NAME, OUTPUT_NAMES, shape) };
      });
      const notes = [
        note,
        `graph-model weights stored as ${storage}`,
        'any batch N in one call',
        'tfjs has one global backend: each run selects this one first; tfjs runs are serialized',
        ...runtime.notes(tf),
      ];
      return new TfjsBrowserBackend(runtime, tf, model, plan, ctx, `${pkgVersion} (tfjs-core ${tf.version_core}, tfjs-converter ${converter})`, url, notes);
    },
  };
}

/** True when a WebGL2 (or WebGL1) context can be created here. */
function hasWebGl(): boolean {
  try {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    return !!(canvas.getContext('webgl2') ?? canvas.getContext('webgl'));
  } catch {
    return false;
  }
}

/** Whether navigator.gpu gives an adapter (null under --disable-gpu and in most headless setups). */
export async function webGpuAvailability(): Promise<Availability> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return { available: false, reason: 'this browser has no WebGPU (navigator.gpu is undefined)' };
  try {
    if (!(await gpu.requestAdapter())) return { available: false, reason: 'WebGPU offers no adapter here (navigator.gpu.requestAdapter() returned null)' };
  } catch (err) {
    return { available: false, reason: `WebGPU adapter request failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { available: true };
}

export async function webGlAvailability(): Promise<Availability> {
  return hasWebGl() ? { available: true } : { available: false, reason: 'this browser cannot create a WebGL context' };
}

export const tfjsWebglBrowserBackend = makeFactory({
  name: 'tfjs-webgl',
  tfBackend: 'webgl',
  availability: webGlAvailability,
  async register() {
    const m = await import('@tensorflow/tfjs-backend-webgl');
    return `@tensorflow/tfjs-backend-webgl ${m.version_webgl}`;
  },
  notes: (tf) => [`WebGL ${tf.env().getNumber('WEBGL_VERSION')}, float32 render targets: ${tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')}`],
});

export const tfjsWasmBrowserBackend = makeFactory({
  name: 'tfjs-wasm',
  tfBackend: 'wasm',
  availability: async () =>
    typeof WebAssembly === 'object' ? { available: true } : { available: false, reason: 'this browser has no WebAssembly' },
  async register(ctx) {
    const m = await import('@tensorflow/tfjs-backend-wasm');
    m.setWasmPaths(requireWasmPath(ctx.wasmPaths, 'tfjs', 'tfjs-wasm'));
    return `@tensorflow/tfjs-backend-wasm ${m.version_wasm}`;
  },
  notes: (tf) => [`XNNPACK, SIMD: ${String(tf.env().get('WASM_HAS_SIMD_SUPPORT'))}, threads: ${String(tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT'))}`],
});

export const tfjsCpuBrowserBackend = makeFactory({
  name: 'tfjs-cpu',
  tfBackend: 'cpu',
  availability: async () => ({ available: true }),
  async register() {
    const m = await import('@tensorflow/tfjs-backend-cpu');
    return `@tensorflow/tfjs-backend-cpu ${m.version_cpu}`;
  },
  notes: () => ['plain JavaScript kernels (float32)'],
});

export const tfjsWebgpuBrowserBackend = makeFactory({
  name: 'tfjs-webgpu',
  tfBackend: 'webgpu',
  availability: webGpuAvailability,
  async register() {
    await import('@tensorflow/tfjs-backend-webgpu');
    // The package exports no version constant; tfjs-core's version (same release train) follows.
    return '@tensorflow/tfjs-backend-webgpu';
  },
  notes: () => ['WebGPU compute shaders'],
});

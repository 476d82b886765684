// onnxruntime-web in the browser: model.onnx (fetched, manifest-checked) on the wasm execution provider
// (one thread, so results do not depend on cross-origin isolation), or on WebGL / WebGPU when the
// browser offers them. The 'all' build holds every EP; its glue (.mjs) and .wasm are loaded from
// wasmPaths.ort, never from a CDN.
import type { ImageBatch, RawOutputs } from '../../backends/backend.js';
import { ArtifactIntegrityError, BackendError, BackendUnavailableError, ToolkitError } from '../../errors.js';
import { webGlAvailability, webGpuAvailability } from './tfjs.js';
import type { BrowserBackend, BrowserBackendFactory, BrowserBackendName, BrowserLoadContext } from './types.js';
import { checkBrowserBatch, outputDims, requireWasmPath } from './types.js';

type Ort = typeof import('onnxruntime-web');
let ortPromise: Promise<Ort> | null = null;
function ort(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-web/all') as Promise<Ort>;
  return ortPromise;
}

/** Names fixed by the ONNX emitter (src/emit/onnx/emit.ts). */
const INPUT = 'input';
const REGRESSORS = 'regressors';
const CLASSIFICATORS = 'classificators';

/**
 * The WebGL EP (the older onnx.js engine, deprecated upstream) checks inputs against the model's
 * declared shape and cannot match the symbolic batch dimension N of our models, whatever N is given.
 * One run on a black image at load tells; that limitation makes the backend unavailable, not failed.
 */
async function probeWebgl(o: Ort, session: import('onnxruntime-web').InferenceSession, preset: BrowserLoadContext['preset'], url: string): Promise<void> {
  const input = new o.Tensor('float32', new Float32Array(preset.inputWidth * preset.inputHeight * 3), [1, preset.inputHeight, preset.inputWidth, 3]);
  try {
    const results = await session.run({ [INPUT]: input });
    for (const t of Object.values(results)) t.dispose();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (!/check failed: expected shape/.test(msg)) throw err;
    await session.release();
    throw new BackendUnavailableError('ORT_WEBGL_SYMBOLIC_DIM', `${url}: onnxruntime-web's WebGL EP cannot run a model with a symbolic batch dimension (${msg})`, { file: url, cause: err });
  } finally {
    input.dispose();
  }
}

function makeFactory(name: BrowserBackendName, ep: 'wasm' | 'webgl' | 'webgpu', availability: BrowserBackendFactory['availability']): BrowserBackendFactory {
  return {
    name,
    runs: 'model.onnx',
    availability,
    async load(ctx): Promise<BrowserBackend> {
      const avail = await availability();
      if (!avail.available) throw new BackendUnavailableError('BACKEND_UNAVAILABLE', `${name}: ${avail.reason}`);
      const o = await ort();
      o.env.wasm.wasmPaths = requireWasmPath(ctx.wasmPaths, 'ort', name);
      o.env.wasm.numThreads = 1;
      o.env.wasm.proxy = false;
      const { bytes, url } = await ctx.artifacts.file('model.onnx');
      let session: import('onnxruntime-web').InferenceSession;
      try {
        session = await o.InferenceSession.create(bytes, { executionProviders: [ep] });
      } catch (err) {
        throw new BackendError('BACKEND_LOAD_FAILED', `${url}: ${name} could not load the model (${err instanceof Error ? err.message : String(err)})`, { file: url, cause: err });
      }
      if (ep === 'webgl') await probeWebgl(o, session, ctx.preset, url);
      if (!session.inputNames.includes(INPUT) || ![REGRESSORS, CLASSIFICATORS].every((n) => session.outputNames.includes(n))) {
        await session.release();
        throw new ArtifactIntegrityError('ONNX_SIGNATURE', `${url}: inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]; expected ${INPUT} -> ${REGRESSORS}, ${CLASSIFICATORS}`, { file: url });
      }
      const { numAnchors, numCoords } = outputDims(ctx.preset);
      let disposed = false;
      return {
        name,
        version: `onnxruntime-web ${o.env.versions.web ?? o.env.versions.common ?? 'unknown'}`,
        artifact: url,
        notes: [`execution provider ${ep}${ep === 'wasm' ? ', 1 thread' : ''}`, 'any batch N in one call'],
        async run(batch: ImageBatch): Promise<RawOutputs> {
          if (disposed) throw new ToolkitError('BACKEND_DISPOSED', `${url}: ${name} backend used after dispose()`, { file: url });
          const n = checkBrowserBatch(ctx.preset, batch, name);
          const input = new o.Tensor('float32', batch.data, [...batch.shape]);
          const results = await session.run({ [INPUT]: input });
          const take = (key: string, coords: number): Float32Array => {
            const t = results[key];
            if (!t || t.type !== 'float32' || t.dims.join(',') !== [n, numAnchors, coords].join(',')) {
              throw new ArtifactIntegrityError('ONNX_OUTPUT_SHAPE', `${url}: output '${key}' is ${t?.type} [${t?.dims.join(',')}], expected float32 [${n},${numAnchors},${coords}]`, { file: url });
            }
            // Copy: the runtime may reuse or free its buffer (GPU EPs download on getData()).
            return new Float32Array(t.data as Float32Array);
          };
          try {
            return { regressors: take(REGRESSORS, numCoords), classificators: take(CLASSIFICATORS, 1), batch: n, numAnchors, numCoords };
          } finally {
            input.dispose();
            for (const t of Object.values(results)) t.dispose();
          }
        },
        async dispose() {
          if (disposed) return;
          disposed = true;
          await session.release();
        },
      };
    },
  };
}

export const ortWasmBrowserBackend = makeFactory('onnxruntime-web-wasm', 'wasm', async () =>
  typeof WebAssembly === 'object' ? { available: true } : { available: false, reason: 'this browser has no WebAssembly' },
);
export const ortWebglBrowserBackend = makeFactory('onnxruntime-web-webgl', 'webgl', webGlAvailability);
export const ortWebgpuBrowserBackend = makeFactory('onnxruntime-web-webgpu', 'webgpu', webGpuAvailability);

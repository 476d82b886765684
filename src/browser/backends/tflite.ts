// The official TFLite runtime in the browser: @tensorflow/tfjs-tflite's Interpreter compiled to
// WebAssembly (XNNPACK), on the original .tflite fetched from modelUrl and checked against the sha256
// of the model the manifest says the artifacts came from. Its glue script and .wasm are loaded from
// wasmPaths.tflite. The runtime takes batch 1, so a batch of N runs N times.
import type { TFLiteWebModelRunner, TFLiteWebModelRunnerTensorInfo } from '@tensorflow/tfjs-tflite';
import type { ImageBatch, RawOutputs } from '../../backends/backend.js';
import { runTfliteItems, type TfliteLoop } from '../../backends/tflite-loop.js';
import { BackendError, ToolkitError } from '../../errors.js';
import type { BrowserBackend, BrowserBackendFactory } from './types.js';
import { checkBrowserBatch, outputDims, requireWasmPath } from './types.js';

const dims = (info: TFLiteWebModelRunnerTensorInfo): number[] => info.shape.split(',').map(Number);

export const tfliteBrowserBackend: BrowserBackendFactory = {
  name: 'tflite',
  runs: 'tflite',
  async availability() {
    return typeof WebAssembly === 'object' ? { available: true } : { available: false, reason: 'this browser has no WebAssembly' };
  },
  async load(ctx): Promise<BrowserBackend> {
    if (!ctx.modelUrl) throw new ToolkitError('MODEL_URL_REQUIRED', `tflite: set modelUrl to the URL of ${ctx.artifacts.record.source.fileName}`);
    const wasm = requireWasmPath(ctx.wasmPaths, 'tflite', 'tflite');
    const url = ctx.modelUrl;
    const bytes = await ctx.artifacts.sourceModel(url);
    // The package's "module" entry imports a file it does not ship; its flat ESM bundle is complete.
    const mod = (await import('@tensorflow/tfjs-tflite/dist/tf-tflite.fesm.js')) as typeof import('@tensorflow/tfjs-tflite');
    mod.setWasmPath(wasm);
    let runner: TFLiteWebModelRunner;
    try {
      const model = await mod.loadTFLiteModel(bytes.slice().buffer, { numThreads: 1 });
      // The TFLiteModel wrapper needs tfjs tensors; the runner it holds reads and writes the interpreter's buffers.
      const r = (model as unknown as { modelRunner?: TFLiteWebModelRunner }).modelRunner;
      if (!r || typeof r.infer !== 'function') throw new Error('TFLiteModel no longer exposes its model runner');
      runner = r;
    } catch (err) {
      throw new BackendError('BACKEND_LOAD_FAILED', `${url}: the TFLite WebAssembly runtime could not load the model (${err instanceof Error ? err.message : String(err)})`, { file: url, cause: err });
    }
    const { numAnchors, numCoords } = outputDims(ctx.preset);
    const input = runner.getInputs()[0];
    const outputs = runner.getOutputs();
    // Outputs by shape: regressors [1,A,C], classificators [1,A,1] (names differ between models).
    const reg = outputs.find((o) => dims(o).join(',') === `1,${numAnchors},${numCoords}`);
    const cls = outputs.find((o) => dims(o).join(',') === `1,${numAnchors},1`);
    if (!input || !reg || !cls || input.dataType !== 'float32') {
      runner.cleanUp();
      throw new ToolkitError(
        'TFLITE_OUTPUT_MISMATCH',
        `${url}: expected a float32 input and outputs [1,${numAnchors},${numCoords}], [1,${numAnchors},1]; the runtime reports ${outputs.map((o) => `${o.name} [${o.shape}]`).join(', ')}`,
        { file: url },
      );
    }
    const loop: TfliteLoop = { runner, input, regressors: reg, classificators: cls, numAnchors, numCoords, file: url };
    let disposed = false;
    return {
      name: 'tflite',
      version: '@tensorflow/tfjs-tflite (TFLite web API, WebAssembly)',
      artifact: url,
      notes: ['runtime takes batch 1: loops over N', 'official TFLite interpreter in WebAssembly (XNNPACK), 1 thread'],
      async run(batch: ImageBatch): Promise<RawOutputs> {
        if (disposed) throw new ToolkitError('BACKEND_DISPOSED', `${url}: tflite backend used after dispose()`);
        const n = checkBrowserBatch(ctx.preset, batch, 'tflite');
        return runTfliteItems(loop, batch, n);
      },
      async dispose() {
        if (!disposed) {
          disposed = true;
          runner.cleanUp();
        }
      },
    };
  },
};

// The official TFLite runtime: the Interpreter compiled to WebAssembly in @tensorflow/tfjs-tflite
// (XNNPACK delegate, one thread), run on the original .tflite bytes. Node support comes from
// ./tflite-node-shim.ts. The web runtime has a fixed batch of 1, so a batch of N runs N times.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TFLiteWebModelRunner, TFLiteWebModelRunnerTensorInfo } from '@tensorflow/tfjs-tflite';
import { checkAgainstSource } from '../artifacts/signature.js';
import { BackendError, ToolkitError } from '../errors.js';
import { detectorOutputs } from '../ir/graph.js';
import type { Backend, BackendFactory, ImageBatch, ModelSource, RawOutputs } from './backend.js';
import { checkImageBatch } from '../ir/batch.js';
import { runTfliteItems, type TfliteLoop } from './tflite-loop.js';
import { createTfliteRunner, tflitePackageDir, tflitePackageVersion, tfliteShimInfo, tfliteWasmDir } from './tflite-node-shim.js';

function shapeOf(info: TFLiteWebModelRunnerTensorInfo): number[] {
  return info.shape.split(',').map(Number);
}

function describe(info: TFLiteWebModelRunnerTensorInfo): string {
  return `${info.name} [${info.shape}] ${info.dataType}`;
}

/** Pick the runtime's output for an IR output: by name, else the unique one of the same shape. */
function matchOutput(
  outputs: readonly TFLiteWebModelRunnerTensorInfo[],
  name: string,
  shape: readonly number[],
  file: string,
): TFLiteWebModelRunnerTensorInfo {
  const sameShape = (o: TFLiteWebModelRunnerTensorInfo) => shapeOf(o).join(',') === shape.join(',');
  const byName = outputs.find((o) => o.name === name && sameShape(o));
  if (byName) return byName;
  const byShape = outputs.filter(sameShape);
  if (byShape.length === 1) return byShape[0]!;
  throw new ToolkitError(
    'TFLITE_OUTPUT_MISMATCH',
    `${file}: the TFLite runtime has no output matching '${name}' [${shape.join(',')}]; it has ${outputs.map(describe).join(', ')}`,
    { file },
  );
}

export const tfliteBackend: BackendFactory = {
  name: 'tflite',
  runs: 'tflite',
  async availability() {
    try {
      const dir = tfliteWasmDir();
      const missing = ['tflite_web_api_cc_simd.js', 'tflite_web_api_cc_simd.wasm', 'tflite_web_api_cc.js', 'tflite_web_api_cc.wasm'].filter(
        (f) => !existsSync(path.join(dir, f)),
      );
      if (missing.length > 0) return { available: false, reason: `@tensorflow/tfjs-tflite is missing ${missing.join(', ')} in ${dir}` };
      return { available: true };
    } catch (err) {
      return { available: false, reason: `@tensorflow/tfjs-tflite is not installed (${err instanceof Error ? err.message : String(err)})` };
    }
  },

  async load(source: ModelSource): Promise<Backend> {
    const file = path.basename(source.tflitePath);
    let runner: TFLiteWebModelRunner;
    try {
      runner = await createTfliteRunner(source.tfliteBytes, { numThreads: 1 });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new BackendError('BACKEND_LOAD_FAILED', `${source.tflitePath}: the TFLite WebAssembly runtime could not load the model (${reason})`, {
        file: source.tflitePath,
        cause: err,
      });
    }
    const inputs = runner.getInputs();
    const outputs = runner.getOutputs();
    const input = inputs[0];
    if (inputs.length !== 1 || !input || input.dataType !== 'float32' || shapeOf(input).length !== 4 || shapeOf(input)[0] !== 1) {
      runner.cleanUp();
      throw new ToolkitError('TFLITE_INPUT_MISMATCH', `${file}: expected one float32 input [1,H,W,C], the runtime reports ${inputs.map(describe).join(', ')}`, {
        file: source.tflitePath,
      });
    }
    const ir = detectorOutputs(source.graph);
    let regInfo: TFLiteWebModelRunnerTensorInfo;
    let clsInfo: TFLiteWebModelRunnerTensorInfo;
    try {
      // The interpreter's own tensors, before the first run, against the IR (which loadModelSource checked against the preset).
      checkAgainstSource(source, { input: shapeOf(input) }, source.tflitePath, 'the TFLite runtime');
      // Outputs must have the IR's shapes to be matched at all.
      regInfo = matchOutput(outputs, ir.regressors.name, ir.regressors.shape, file);
      clsInfo = matchOutput(outputs, ir.classificators.name, ir.classificators.shape, file);
    } catch (err) {
      runner.cleanUp();
      throw err;
    }
    const numAnchors = ir.regressors.shape[1]!;
    const numCoords = ir.regressors.shape[2]!;
    const loop: TfliteLoop = { runner, input, regressors: regInfo, classificators: clsInfo, numAnchors, numCoords, file: source.tflitePath };
    const shim = tfliteShimInfo();
    let disposed = false;

    return {
      name: 'tflite',
      version: `@tensorflow/tfjs-tflite ${tflitePackageVersion()}`,
      artifact: source.tflitePath,
      notes: [
        'runtime takes batch 1: loops over N',
        `official TFLite interpreter in WebAssembly (${shim.wasm ?? 'tflite_web_api_cc*.wasm'}, no threads, XNNPACK delegate), 1 thread`,
        `runs under Node through src/backends/tflite-node-shim.ts (package ${tflitePackageDir()})`,
      ],
      async run(batch: ImageBatch): Promise<RawOutputs> {
        if (disposed) throw new ToolkitError('BACKEND_DISPOSED', `${file}: tflite backend used after dispose()`);
        const n = checkImageBatch(source.graph, batch, `tflite (${file})`);
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

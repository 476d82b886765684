// The TFLite web runtime takes batch 1: a batch of N is N runs through its interpreter. Shared by the
// Node backend (./tflite.ts) and the browser backend (../browser/backends/tflite.ts), which load the
// runtime differently but drive it the same way. Platform-free.
import type { TFLiteWebModelRunner, TFLiteWebModelRunnerTensorInfo } from '@tensorflow/tfjs-tflite';
import { BackendError } from '../errors.js';
import type { ImageBatch, RawOutputs } from './backend.js';

export interface TfliteLoop {
  readonly runner: TFLiteWebModelRunner;
  readonly input: TFLiteWebModelRunnerTensorInfo;
  readonly regressors: TFLiteWebModelRunnerTensorInfo;
  readonly classificators: TFLiteWebModelRunnerTensorInfo;
  readonly numAnchors: number;
  readonly numCoords: number;
  /** The model file or URL, named in errors. */
  readonly file: string;
}

/** Runs n checked images (n from the caller's batch check) one at a time and gathers the outputs. */
export function runTfliteItems(loop: TfliteLoop, batch: ImageBatch, n: number): RawOutputs {
  const { runner, input, numAnchors, numCoords, file } = loop;
  const [, h, w, c] = batch.shape;
  const plane = h * w * c;
  const regSize = numAnchors * numCoords;
  const regressors = new Float32Array(n * regSize);
  const classificators = new Float32Array(n * numAnchors);
  for (let b = 0; b < n; b++) {
    // data() views wasm memory, which may move when it grows: take fresh views every time.
    (input.data() as Float32Array).set(batch.data.subarray(b * plane, (b + 1) * plane));
    let ok: boolean;
    try {
      ok = runner.infer();
    } catch (err) {
      throw new BackendError('BACKEND_RUN_FAILED', `${file}: the TFLite interpreter failed on batch item ${b} (${err instanceof Error ? err.message : String(err)})`, { file, cause: err });
    }
    if (!ok) throw new BackendError('BACKEND_RUN_FAILED', `${file}: the TFLite interpreter failed on batch item ${b}`, { file });
    regressors.set(loop.regressors.data() as Float32Array, b * regSize);
    classificators.set(loop.classificators.data() as Float32Array, b * numAnchors);
  }
  return { regressors, classificators, batch: n, numAnchors, numCoords };
}

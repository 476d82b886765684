// What the two ONNX Runtime backends (onnxruntime-node, onnxruntime-web) share: reading model.onnx
// (or the in-memory override), feeding an NHWC batch of any size, and copying the two outputs out.
// Both packages expose onnxruntime-common's InferenceSession/Tensor API; only loading differs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactIntegrityError, ToolkitError } from '../errors.js';
import type { Backend, BackendName, ImageBatch, ModelSource, RawOutputs } from './backend.js';
import { checkImageBatch } from './batch.js';

/** Names fixed by the ONNX emitter (src/emit/onnx/emit.ts). */
const INPUT = 'input';
const REGRESSORS = 'regressors';
const CLASSIFICATORS = 'classificators';

interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
  dispose?(): void;
}

interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The slice of the onnxruntime API both packages provide. */
export interface OrtModule {
  readonly InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
}

/** model.onnx bytes for this source: the override when given, else <artifactsDir>/model.onnx. */
export async function readOnnxModel(source: ModelSource): Promise<{ bytes: Uint8Array; artifact: string }> {
  if (source.overrides?.onnx) {
    return { bytes: source.overrides.onnx, artifact: `in-memory model.onnx (${source.overrides.onnx.byteLength} bytes)` };
  }
  const file = path.join(source.artifactsDir, 'model.onnx');
  try {
    return { bytes: new Uint8Array(await readFile(file)), artifact: file };
  } catch (err) {
    throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${file}: cannot read the ONNX model (run \`npm run convert\` first)`, { file, cause: err });
  }
}

function float32Output(out: OrtTensorLike | undefined, name: string, batch: number, artifact: string): { data: Float32Array; dims: readonly number[] } {
  if (!out) throw new ArtifactIntegrityError('ONNX_OUTPUT_MISSING', `${artifact}: the model has no output '${name}'`, { file: artifact });
  if (out.type !== 'float32' || !(out.data instanceof Float32Array) || out.dims.length !== 3 || out.dims[0] !== batch) {
    throw new ArtifactIntegrityError(
      'ONNX_OUTPUT_SHAPE',
      `${artifact}: output '${name}' is ${out.type} [${out.dims.join(',')}], expected float32 [${batch},A,C]`,
      { file: artifact },
    );
  }
  // Copy: the runtime may reuse or free its buffer.
  return { data: new Float32Array(out.data), dims: out.dims };
}

export async function createOrtBackend(opts: {
  name: BackendName;
  version: string;
  ort: OrtModule;
  source: ModelSource;
  sessionOptions: Record<string, unknown>;
  notes: readonly string[];
}): Promise<Backend> {
  const { bytes, artifact } = await readOnnxModel(opts.source);
  let session: OrtSessionLike;
  try {
    session = await opts.ort.InferenceSession.create(bytes, opts.sessionOptions);
  } catch (err) {
    // The runtime's own message does not say which file it was given.
    throw new ToolkitError('ONNX_LOAD', `${artifact}: ${opts.name} could not load the model (${err instanceof Error ? err.message : String(err)})`, { file: artifact, cause: err });
  }
  for (const [what, names, want] of [
    ['input', session.inputNames, [INPUT]],
    ['outputs', session.outputNames, [REGRESSORS, CLASSIFICATORS]],
  ] as const) {
    if (!want.every((n) => names.includes(n))) {
      await session.release();
      throw new ArtifactIntegrityError('ONNX_SIGNATURE', `${artifact}: ${what} are [${names.join(', ')}], expected [${want.join(', ')}]`, { file: artifact });
    }
  }
  let disposed = false;
  return {
    name: opts.name,
    version: opts.version,
    artifact,
    notes: opts.notes,
    async run(batch: ImageBatch): Promise<RawOutputs> {
      if (disposed) throw new ToolkitError('BACKEND_DISPOSED', `${artifact}: ${opts.name} backend used after dispose()`, { file: artifact });
      const n = checkImageBatch(opts.source.graph, batch, `${opts.name} (${artifact})`);
      const input = new opts.ort.Tensor('float32', batch.data, [...batch.shape]);
      const results = await session.run({ [INPUT]: input });
      const reg = float32Output(results[REGRESSORS], REGRESSORS, n, artifact);
      const cls = float32Output(results[CLASSIFICATORS], CLASSIFICATORS, n, artifact);
      for (const t of [input, ...Object.values(results)]) t.dispose?.();
      if (cls.dims[1] !== reg.dims[1] || cls.dims[2] !== 1) {
        throw new ArtifactIntegrityError('ONNX_OUTPUT_SHAPE', `${artifact}: classificators [${cls.dims.join(',')}] do not match regressors [${reg.dims.join(',')}]`, { file: artifact });
      }
      return { regressors: reg.data, classificators: cls.data, batch: n, numAnchors: reg.dims[1]!, numCoords: reg.dims[2]! };
    },
    async dispose(): Promise<void> {
      // Idempotent: a second release() throws 'Session already disposed'.
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}

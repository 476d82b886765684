// One interface, several runtimes chosen by name (the shape of onnxruntime's js/ backends).
// Every backend takes an NHWC float32 batch of any size N >= 1 and returns the model's two raw
// outputs with TFLite's shapes and element order: regressors [N, A, 16], classificators [N, A, 1].
import type { VerifiedArtifacts } from '../artifacts/manifest.js';
import type { ImageBatch } from '../ir/batch.js';
import type { Graph } from '../ir/graph.js';
import type { Preset } from '../presets/types.js';

export type BackendName =
  | 'reference'
  | 'tflite'
  | 'onnxruntime-node'
  | 'onnxruntime-web'
  | 'tfjs-wasm'
  | 'tfjs-cpu'
  | 'tfjs-node'
  | 'torch';

export const BACKEND_NAMES: readonly BackendName[] = [
  'reference',
  'tflite',
  'onnxruntime-node',
  'onnxruntime-web',
  'tfjs-wasm',
  'tfjs-cpu',
  'tfjs-node',
  'torch',
];

// ImageBatch is defined next to the IR: the reference runtime checks batches too and must not depend on backends.
export type { ImageBatch } from '../ir/batch.js';

export interface RawOutputs {
  /** [N, A, 16], row-major. Float64Array from the reference runtime, Float32Array elsewhere. */
  readonly regressors: Float32Array | Float64Array;
  /** [N, A, 1] raw logits. */
  readonly classificators: Float32Array | Float64Array;
  readonly batch: number;
  readonly numAnchors: number;
  readonly numCoords: number;
}

/** In-memory artifacts, used instead of the files on disk (tests mutate these). */
export interface ArtifactOverrides {
  readonly onnx?: Uint8Array;
  readonly tfjs?: { readonly modelJson: unknown; readonly weights: Uint8Array };
  readonly pth?: Uint8Array;
  /** model_decoded.onnx, read only by the verifier's decoded-ONNX check. */
  readonly onnxDecoded?: Uint8Array;
}

/** Everything a backend may need to load one model. Each backend reads only its own artifact. */
export interface ModelSource {
  readonly preset: Preset;
  /** The original .tflite file (path and bytes) and its IR. */
  readonly tflitePath: string;
  readonly tfliteBytes: Uint8Array;
  readonly graph: Graph;
  /** Folder holding this preset's artifacts: model.onnx, tfjs/model.json, blazeface.pth. */
  readonly artifactsDir: string;
  readonly overrides?: ArtifactOverrides;
  /**
   * The preset's artifacts as checked against the manifest (loadModelSource). When present, a backend
   * loads only these bytes and refuses a file the manifest does not list (ARTIFACT_UNLISTED); when
   * absent (verification opted out, or a hand-built source) it reads `artifactsDir` as is.
   */
  readonly verified?: VerifiedArtifacts;
}

export interface Backend {
  readonly name: BackendName;
  /** Runtime version, e.g. onnxruntime-node 1.30.0. */
  readonly version: string;
  /** What it runs: the file path (or 'in-memory ...'). */
  readonly artifact: string;
  /** Facts a report should mention, e.g. 'runtime takes batch 1: loops over N'. */
  readonly notes: readonly string[];
  run(batch: ImageBatch): Promise<RawOutputs>;
  dispose(): Promise<void>;
}

export type Availability =
  | { readonly available: true }
  /** missingPackages: the npm packages to add when that is the reason (BACKEND_NOT_INSTALLED). */
  | { readonly available: false; readonly reason: string; readonly missingPackages?: readonly string[] };

export interface BackendFactory {
  readonly name: BackendName;
  /**
   * The file it runs: the original .tflite (reference, tflite) or a converted artifact. Loading a
   * converted artifact goes through artifacts/manifest.json first.
   */
  readonly runs: 'tflite' | 'model.onnx' | 'tfjs/model.json' | 'blazeface.pth';
  /** Cheap check that the runtime can be used here (package installed, python with torch, ...). */
  availability(): Promise<Availability>;
  load(source: ModelSource): Promise<Backend>;
}

// The one check every runtime makes before it runs: an NHWC float32 batch that fits the model's input.
// A runtime fed the wrong size would fail obscurely, hang (the PyTorch pipe reads exactly N*H*W*C floats)
// or read past the data, so the mismatch is a typed error naming where it happened.
import { ArtifactIntegrityError, InputImageError } from '../errors.js';
import { imageInput, type Graph } from './graph.js';

/** A batch of images, NHWC float32, already normalized to the model's range ([-1, 1]). */
export interface ImageBatch {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

/** Throws InputImageError 'BATCH_SHAPE' unless `batch` is [N,H,W,C] of the graph's input with N >= 1 and N*H*W*C values; returns N. */
export function checkImageBatch(graph: Graph, batch: ImageBatch, where: string): number {
  const input = imageInput(graph);
  const [, h, w, c] = input.shape as [number, number, number, number];
  const s = batch.shape;
  const n = s[0];
  const fits =
    s.length === 4 && Number.isInteger(n) && n >= 1 && s[1] === h && s[2] === w && s[3] === c && batch.data.length === n * h * w * c;
  if (!fits) {
    throw new InputImageError(
      'BATCH_SHAPE',
      `${where}: batch [${s.join(',')}] (${batch.data.length} values) does not fit the model input '${input.name}': expects [N,${h},${w},${c}] with N >= 1 and N*${h * w * c} values`,
      { file: graph.source.fileName },
    );
  }
  return n;
}

/**
 * After a run: the runtime's two outputs must be regressors [N, A, C] and classificators [N, A, 1]
 * (every backend, Node or browser, checks the same shapes with the same error).
 */
export function checkOutputShapes(
  artifact: string,
  runtime: string,
  shapes: { readonly regressors: readonly number[]; readonly classificators: readonly number[] },
  dims: { readonly batch: number; readonly numAnchors: number; readonly numCoords: number },
): void {
  const want = { regressors: [dims.batch, dims.numAnchors, dims.numCoords], classificators: [dims.batch, dims.numAnchors, 1] };
  for (const what of ['regressors', 'classificators'] as const) {
    const got = shapes[what];
    if (got.join(',') !== want[what].join(',')) {
      throw new ArtifactIntegrityError('ARTIFACT_SHAPE_MISMATCH', `${artifact}: ${runtime} output ${what} has shape [${got.join(',')}], expected [${want[what].join(',')}]`, { file: artifact });
    }
  }
}

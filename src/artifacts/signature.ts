// What every model of a preset must look like from the outside: one image input [N,H,W,3] and two
// outputs, regressors [N,A,numCoords] and classificators [N,A,1], with A the preset's anchor count.
// Each runtime reports its model's tensors differently (ONNX metadata, tfjs signatures, TFLite
// interpreter tensors, the IR); all are checked here before the first run, so an artifact of another
// preset (re-signed into the manifest, or passed with --model-file) is refused with the file named
// instead of failing inside a runtime.
import { ArtifactIntegrityError } from '../errors.js';
import { detectorOutputs, imageInput, type Graph } from '../ir/graph.js';
import type { ModelSource } from '../backends/backend.js';
import type { Preset } from '../presets/types.js';

/** A dimension as runtimes report it: a number, a symbolic name ('N'), or null / -1 when unknown. */
export type ReportedDim = number | string | null;

export interface ReportedSignature {
  readonly input?: readonly ReportedDim[];
  readonly regressors?: readonly ReportedDim[];
  readonly classificators?: readonly ReportedDim[];
}

export interface Signature {
  readonly input: readonly (number | null)[];
  readonly regressors: readonly (number | null)[];
  readonly classificators: readonly (number | null)[];
}

/** The three shapes the preset expects, batch as null. */
export function presetSignature(preset: Preset): Signature {
  return {
    input: [null, preset.inputHeight, preset.inputWidth, 3],
    regressors: [null, preset.decode.numBoxes, preset.decode.numCoords],
    classificators: [null, preset.decode.numBoxes, preset.decode.numClasses],
  };
}

/** The three shapes of a Graph IR, batch as null (checked against the preset when the source is loaded). */
export function graphSignature(graph: Graph): Signature {
  const outputs = detectorOutputs(graph);
  const unbatched = (shape: readonly number[]) => shape.map((d, i) => (i === 0 ? null : d));
  return { input: unbatched(imageInput(graph).shape), regressors: unbatched(outputs.regressors.shape), classificators: unbatched(outputs.classificators.shape) };
}

const show = (dims: readonly ReportedDim[]): string => `[${dims.map((d) => (d === null ? '?' : String(d))).join(',')}]`;

/**
 * Compare what a runtime reports with what is expected. Batch (dimension 0) may be anything; an
 * unknown dimension elsewhere (symbolic, -1, null) passes, a different number does not. A shape the
 * runtime does not report at all is not checked (the run-time output check still is).
 * Throws ArtifactIntegrityError 'ARTIFACT_SHAPE_MISMATCH' naming the file, the runtime and `expectedBy`.
 */
export function checkSignature(
  want: Signature,
  reported: ReportedSignature,
  file: string,
  runtime: string,
  expectedBy: string,
  hint = 'is this another preset\'s model? Run `npm run convert`',
): void {
  for (const key of ['input', 'regressors', 'classificators'] as const) {
    const got = reported[key];
    if (!got) continue;
    const fits =
      got.length === want[key].length &&
      got.every((d, i) => i === 0 || want[key][i] === null || typeof d !== 'number' || d < 0 || d === want[key][i]);
    if (!fits) {
      throw new ArtifactIntegrityError(
        'ARTIFACT_SHAPE_MISMATCH',
        `${file}: ${runtime} reports ${key} ${show(got)}, ${expectedBy} expects ${show(want[key])}; ${hint}`,
        { file },
      );
    }
  }
}

/** What a backend's model must look like: the source's Graph IR (itself checked against the preset by loadModelSource). */
export function checkAgainstSource(source: ModelSource, reported: ReportedSignature, file: string, runtime: string): void {
  checkSignature(graphSignature(source.graph), reported, file, runtime, `preset '${source.preset.name}' (${source.graph.source.fileName})`);
}

/** The Graph IR (the .tflite) against the preset: the file given for a preset must be that preset's model. */
export function checkGraphSignature(preset: Preset, graph: Graph, file: string): void {
  checkSignature(
    presetSignature(preset),
    graphSignature(graph),
    file,
    'the TFLite model',
    `preset '${preset.name}' (${preset.inputWidth}x${preset.inputHeight} input, ${preset.decode.numBoxes} anchors)`,
    `is this another preset's model? Pass ${preset.name}'s own ${preset.source.fileName}`,
  );
}

// What every model of a preset must look like from the outside: one image input [N,H,W,3] and two
// outputs, regressors [N,A,numCoords] and classificators [N,A,1], with A the preset's anchor count.
// Each runtime reports its model's tensors differently (ONNX metadata, tfjs signatures, TFLite
// interpreter tensors, the IR); all are checked here before the first run, so an artifact of another
// preset (re-signed into the manifest, or passed with --model-file) is refused with the file named
// instead of failing inside a runtime.
import { ArtifactIntegrityError } from '../errors.js';
import { detectorOutputs, imageInput, type Graph } from '../ir/graph.js';
import type { Preset } from '../presets/types.js';

/** A dimension as runtimes report it: a number, a symbolic name ('N'), or null / -1 when unknown. */
export type ReportedDim = number | string | null;

export interface ReportedSignature {
  readonly input?: readonly ReportedDim[];
  readonly regressors?: readonly ReportedDim[];
  readonly classificators?: readonly ReportedDim[];
}

/** The three shapes the preset expects, batch as null. */
export function presetSignature(preset: Preset): { input: (number | null)[]; regressors: (number | null)[]; classificators: (number | null)[] } {
  return {
    input: [null, preset.inputHeight, preset.inputWidth, 3],
    regressors: [null, preset.decode.numBoxes, preset.decode.numCoords],
    classificators: [null, preset.decode.numBoxes, preset.decode.numClasses],
  };
}

const show = (dims: readonly ReportedDim[]): string => `[${dims.map((d) => (d === null ? '?' : String(d))).join(',')}]`;

/**
 * Compare what a runtime reports with the preset. Batch (dimension 0) may be anything; an unknown
 * dimension elsewhere (symbolic, -1, null) passes, a different number does not. A shape the runtime
 * does not report at all is not checked (the run-time output check still is).
 * Throws ArtifactIntegrityError 'ARTIFACT_SHAPE_MISMATCH' naming the file and the runtime.
 */
export function checkSignature(preset: Preset, reported: ReportedSignature, file: string, runtime: string): void {
  const want = presetSignature(preset);
  for (const key of ['input', 'regressors', 'classificators'] as const) {
    const got = reported[key];
    if (!got) continue;
    const fits =
      got.length === want[key].length &&
      got.every((d, i) => i === 0 || want[key][i] === null || typeof d !== 'number' || d < 0 || d === want[key][i]);
    if (!fits) {
      throw new ArtifactIntegrityError(
        'ARTIFACT_SHAPE_MISMATCH',
        `${file}: ${runtime} reports ${key} ${show(got)}, preset '${preset.name}' expects ${show(want[key])} (${preset.inputWidth}x${preset.inputHeight} input, ${preset.decode.numBoxes} anchors); is this another preset's model? Run \`npm run convert\``,
        { file },
      );
    }
  }
}

/** The Graph IR (the .tflite) against the preset: the file given for a preset must be that preset's model. */
export function checkGraphSignature(preset: Preset, graph: Graph, file: string): void {
  const outputs = detectorOutputs(graph);
  checkSignature(preset, { input: imageInput(graph).shape, regressors: outputs.regressors.shape, classificators: outputs.classificators.shape }, file, 'the TFLite model');
}

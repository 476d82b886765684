// The verifier's check of model_decoded.onnx: run it on onnxruntime-node over the verifier's batch and
// compare every anchor's boxes, keypoints and score with the TypeScript decode
// (src/detect/tensors-to-detections.ts) of the plain model.onnx's raw outputs on the same runtime. The
// network part of the two files is the same, so this isolates the in-graph decode; the plain model
// itself is compared with the float64 reference by the backend rows of the report.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { generateAnchors } from '../anchors/ssd-anchors-calculator.js';
import type { ImageBatch, ModelSource, RawOutputs } from '../backends/backend.js';
import { onnxruntimeNodeBackend } from '../backends/onnxruntime-node.js';
import type { OrtModule } from '../backends/onnxruntime-common.js';
import { anchorScores, tensorsToDetections } from '../detect/tensors-to-detections.js';
import { DECODED_ONNX_FILE, DECODED_OUTPUT_NAMES } from '../emit/onnx/decoded.js';
import { ONNX_INPUT_NAME } from '../emit/onnx/emit.js';
import { ArtifactIntegrityError, BackendError, ToolkitError } from '../errors.js';
import type { Preset } from '../presets/types.js';
import { fmt, fmtTol } from './compare.js';
import type { DecodedOnnxReport, Tolerances } from './report-types.js';

type DecodedOutput = keyof typeof DECODED_OUTPUT_NAMES;

export interface DecodedOutputs {
  readonly boxes: Float32Array;
  readonly keypoints: Float32Array;
  readonly scores: Float32Array;
}

/** The bytes of model_decoded.onnx for this source: the in-memory override, else the file next to model.onnx. */
async function readDecodedModel(source: ModelSource): Promise<{ bytes: Uint8Array; artifact: string }> {
  if (source.overrides?.onnxDecoded) {
    return { bytes: source.overrides.onnxDecoded, artifact: `in-memory ${DECODED_ONNX_FILE}` };
  }
  const file = path.join(source.artifactsDir, DECODED_ONNX_FILE);
  try {
    return { bytes: new Uint8Array(await readFile(file)), artifact: file };
  } catch (err) {
    throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${file}: cannot read the decoded ONNX model (run \`npm run convert\` first)`, { file, cause: err });
  }
}

/** Run model_decoded.onnx bytes on onnxruntime-node; checks the three outputs' shapes. */
export async function runDecodedOnnx(
  bytes: Uint8Array,
  batch: ImageBatch,
  numAnchors: number,
  numKeypoints: number,
  artifact = `in-memory ${DECODED_ONNX_FILE}`,
): Promise<DecodedOutputs> {
  const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  let session: Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (err) {
    throw new BackendError('BACKEND_LOAD_FAILED', `${artifact}: onnxruntime-node could not load the model (${err instanceof Error ? err.message : String(err)})`, { file: artifact, cause: err });
  }
  try {
    const n = batch.shape[0];
    const results = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', batch.data, [...batch.shape]) });
    const want: Record<DecodedOutput, number[]> = { boxes: [n, numAnchors, 4], keypoints: [n, numAnchors, 2 * numKeypoints], scores: [n, numAnchors] };
    const out = {} as Record<DecodedOutput, Float32Array>;
    for (const key of Object.keys(want) as DecodedOutput[]) {
      const t = results[DECODED_OUTPUT_NAMES[key]];
      if (!t || !(t.data instanceof Float32Array) || t.dims.join(',') !== want[key].join(',')) {
        const what = t ? `${t.type} [${t.dims.join(',')}]` : 'missing';
        throw new ArtifactIntegrityError('ONNX_OUTPUT_SHAPE', `${artifact}: output '${key}' is ${what}, expected float32 [${want[key].join(',')}]`, { file: artifact });
      }
      out[key] = new Float32Array(t.data);
    }
    return out;
  } finally {
    await session.release();
  }
}

/**
 * Compare decoded outputs with the TypeScript decode of `raw`, anchor by anchor. Anchors whose box has a
 * negative size are dropped by the TS decode (as MediaPipe does); they are skipped on both sides.
 */
export function compareDecoded(
  got: DecodedOutputs,
  raw: RawOutputs,
  preset: Preset,
  inputNames: readonly string[],
  tolerances: Tolerances,
): Omit<DecodedOnnxReport, 'artifact' | 'status' | 'reason' | 'comparedWith'> {
  const d = preset.decode;
  const A = d.numBoxes;
  const K = d.numKeypoints;
  const anchors = generateAnchors(preset.anchors);
  const failures: string[] = [];
  let maxCoordDiff = 0;
  let maxScoreDiff = 0;
  let worst: DecodedOnnxReport['worst'] = null;
  let worstKey = -1;
  let negativeSizeAnchors = 0;
  const label = (n: number) => `${preset.name} / ${DECODED_ONNX_FILE} / ${inputNames[n] ?? `#${n}`}`;
  // One failure line per input and output: the first element out of tolerance, and how many are.
  const note = (n: number, output: DecodedOutput, anchor: number, coord: number, ts: number, onnx: number, tol: number, bad: Map<string, [string, number]>) => {
    const diff = Math.abs(onnx - ts);
    const key = output === 'scores' ? diff / tolerances.detectionScore : diff / tolerances.detectionCoord;
    if (!(key <= worstKey)) {
      worstKey = Number.isNaN(key) ? Infinity : key;
      worst = { input: inputNames[n] ?? `#${n}`, output, anchor, coord };
    }
    if (output === 'scores') maxScoreDiff = Math.max(maxScoreDiff, Number.isNaN(diff) ? Infinity : diff);
    else maxCoordDiff = Math.max(maxCoordDiff, Number.isNaN(diff) ? Infinity : diff);
    if (diff <= tol) return;
    // Indexed like the per-input tensors elsewhere in the report: [0, anchor, coord] of that input.
    const at = output === 'scores' ? `${output}[0, ${anchor}]` : `${output}[0, ${anchor}, ${coord}]`;
    const prev = bad.get(output);
    if (prev) prev[1]++;
    else bad.set(output, [`${label(n)} / ${at}: |diff| ${fmt(diff)} > ${fmtTol(tol)} (ts ${fmt(ts)}, onnx ${fmt(onnx)})`, 1]);
  };
  for (let n = 0; n < raw.batch; n++) {
    const bad = new Map<string, [string, number]>();
    const scores = anchorScores(raw.classificators, d, n);
    for (let i = 0; i < A; i++) note(n, 'scores', i, 0, scores[i]!, got.scores[n * A + i]!, tolerances.detectionScore, bad);
    const rows = tensorsToDetections(raw, anchors, d, { batchIndex: n, minScoreThresh: -Infinity });
    let j = 0;
    for (let i = 0; i < A; i++) {
      const bo = (n * A + i) * 4;
      const [ymin, xmin, ymax, xmax] = [got.boxes[bo]!, got.boxes[bo + 1]!, got.boxes[bo + 2]!, got.boxes[bo + 3]!];
      if (!(ymax >= ymin && xmax >= xmin)) {
        negativeSizeAnchors++;
        continue;
      }
      // Rows come in anchor order; once they run out the count check below reports the mismatch.
      if (j >= rows.count) {
        j++;
        continue;
      }
      const r = j++ * rows.stride;
      for (let c = 0; c < 4; c++) note(n, 'boxes', i, c, rows.values[r + c]!, got.boxes[bo + c]!, tolerances.detectionCoord, bad);
      for (let c = 0; c < 2 * K; c++) note(n, 'keypoints', i, c, rows.values[r + 4 + c]!, got.keypoints[(n * A + i) * 2 * K + c]!, tolerances.detectionCoord, bad);
    }
    if (j !== rows.count) {
      failures.push(`${label(n)}: the TS decode keeps ${rows.count} of ${A} anchors (it drops negative sizes), the ONNX boxes have ${j} of non-negative size`);
    }
    for (const [msg, count] of bad.values()) failures.push(count > 1 ? `${msg}; ${count} values out of tolerance` : msg);
  }
  return {
    maxCoordDiff: Number.isFinite(maxCoordDiff) ? maxCoordDiff : null,
    maxScoreDiff: Number.isFinite(maxScoreDiff) ? maxScoreDiff : null,
    worst,
    negativeSizeAnchors,
    failures,
  };
}

/** The whole check for one preset: never throws; a problem is an 'error' row with its reason. */
export async function checkDecodedOnnx(
  source: ModelSource,
  batch: ImageBatch,
  inputNames: readonly string[],
  tolerances: Tolerances,
): Promise<DecodedOnnxReport> {
  const comparedWith = 'TypeScript decode (src/detect/tensors-to-detections.ts) of model.onnx on onnxruntime-node, every anchor';
  const empty = { maxCoordDiff: null, maxScoreDiff: null, worst: null, negativeSizeAnchors: 0 };
  const availability = await onnxruntimeNodeBackend.availability();
  if (!availability.available) {
    return { artifact: DECODED_ONNX_FILE, status: 'unavailable', reason: availability.reason, comparedWith, ...empty, failures: [] };
  }
  const preset = source.preset;
  let artifact: string = DECODED_ONNX_FILE;
  try {
    const decoded = await readDecodedModel(source);
    artifact = decoded.artifact;
    const got = await runDecodedOnnx(decoded.bytes, batch, preset.decode.numBoxes, preset.decode.numKeypoints, decoded.artifact);
    const plain = await onnxruntimeNodeBackend.load(source);
    let raw: RawOutputs;
    try {
      raw = await plain.run(batch);
    } finally {
      await plain.dispose();
    }
    const result = compareDecoded(got, raw, preset, inputNames, tolerances);
    return { artifact, status: result.failures.length === 0 ? 'pass' : 'fail', reason: null, comparedWith, ...result };
  } catch (err) {
    // Typed errors already name the file; anything else gets it prefixed.
    const message = err instanceof Error ? err.message : String(err);
    const reason = err instanceof ToolkitError ? message : `${artifact}: ${message}`;
    return { artifact, status: 'error', reason, comparedWith, ...empty, failures: [`${preset.name} / ${DECODED_ONNX_FILE}: ${reason}`] };
  }
}

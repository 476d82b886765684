// The int8 model's verdict (model_int8.onnx, `convert --int8`): quantization moves raw outputs far beyond
// the 1e-4 gate, so it is judged where it matters, at the face level, on the seed photos: the same faces
// as the float64 reference, each box corner within 2 % of the face size, each score within 0.03. Also its
// speed beside the fp32 model.onnx on onnxruntime-node (same batch, interleaved runs).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { onnxruntimeNodeBackend } from '../backends/onnxruntime-node.js';
import type { Backend, ImageBatch, ModelSource, RawOutputs } from '../backends/backend.js';
import { readArtifact } from '../backends/artifact-files.js';
import { INT8_ONNX_FILE } from '../convert/int8.js';
import { boxIoU, fmt } from './compare.js';
import type { VerifyInput } from './inputs.js';
import type { DetectionRecord, Int8Report } from './report-types.js';

/** Corner error as a fraction of the reference face's height (y corners) or width (x corners); score as |diff| after sigmoid. */
export const INT8_TOLERANCES = { cornerFraction: 0.02, score: 0.03 } as const;

const CORNERS = ['ymin', 'xmin', 'ymax', 'xmax'] as const;

export interface FaceVerdict {
  readonly pass: boolean;
  /** Worst corner error in % of the face size; null when no face was matched. */
  readonly worstCornerPct: number | null;
  readonly worstScoreDiff: number | null;
  readonly worst: { input: string; face: number; corner: (typeof CORNERS)[number] } | null;
  readonly faces: { input: string; ref: number; got: number }[];
  readonly failures: string[];
}

/**
 * Judge decoded faces against the reference's, input by input: equal counts, every reference face
 * matched (highest IoU, greedy in the reference's score order), corners and scores within tolerance.
 */
export function judgeFaces(
  ref: readonly (readonly DetectionRecord[])[],
  got: readonly (readonly DetectionRecord[])[],
  names: readonly string[],
  label: string,
  tol: { cornerFraction: number; score: number } = INT8_TOLERANCES,
): FaceVerdict {
  const failures: string[] = [];
  let worstCorner: number | null = null;
  let worstScore: number | null = null;
  let worst: FaceVerdict['worst'] = null;
  const faces = names.map((input, k) => {
    const r = ref[k] ?? [];
    const g = got[k] ?? [];
    if (r.length !== g.length) failures.push(`${label} / ${input}: ${g.length} faces, reference ${r.length}`);
    const taken = new Set<number>();
    r.forEach((face, i) => {
      let best = -1;
      let bestIoU = 0;
      g.forEach((cand, j) => {
        const iou = taken.has(j) ? 0 : boxIoU(face, cand);
        if (iou > bestIoU) [best, bestIoU] = [j, iou];
      });
      if (best < 0) {
        failures.push(`${label} / ${input}: reference face ${i} (score ${fmt(face.score)}) has no overlapping face`);
        return;
      }
      taken.add(best);
      const m = g[best]!;
      const size = [face.box[2] - face.box[0], face.box[3] - face.box[1]];
      CORNERS.forEach((corner, c) => {
        const e = Math.abs(m.box[c]! - face.box[c]!) / Math.max(size[c % 2]!, Number.EPSILON);
        if (worstCorner === null || !(e <= worstCorner)) {
          worstCorner = Number.isNaN(e) ? Infinity : e;
          worst = { input, face: i, corner };
        }
      });
      const sd = Math.abs(m.score - face.score);
      worstScore = worstScore === null || !(sd <= worstScore) ? (Number.isNaN(sd) ? Infinity : sd) : worstScore;
    });
    return { input, ref: r.length, got: g.length };
  });
  const wc = worstCorner as number | null;
  const ws = worstScore as number | null;
  const w = worst as FaceVerdict['worst'];
  if (wc !== null && !(wc <= tol.cornerFraction) && w) {
    failures.push(`${label} / ${w.input}: face ${w.face} ${w.corner} off by ${fmt(wc * 100)} % of the face size > ${fmt(tol.cornerFraction * 100)} %`);
  }
  if (ws !== null && !(ws <= tol.score)) failures.push(`${label}: a face score differs by ${fmt(ws)} > ${tol.score}`);
  return { pass: failures.length === 0, worstCornerPct: wc === null ? null : wc * 100, worstScoreDiff: ws, worst: w, faces, failures };
}

/** model_int8.onnx bytes: the given ones, else the preset's file (through the manifest when the source is verified); else why not. */
async function int8Bytes(source: ModelSource, given: Uint8Array | undefined): Promise<{ bytes: Uint8Array; artifact: string } | { reason: string }> {
  if (given) return { bytes: given, artifact: `in-memory ${INT8_ONNX_FILE} (${given.byteLength} bytes)` };
  const onDisk = existsSync(path.join(source.artifactsDir, INT8_ONNX_FILE));
  if (source.verified && !source.verified.files.has(INT8_ONNX_FILE)) {
    // Not part of the artifacts the manifest vouches for: a leftover of an earlier `convert --int8` is not judged.
    return { reason: `no ${INT8_ONNX_FILE} in the manifest${onDisk ? ' (a file is on disk, but unlisted: stale)' : ''}; make it with \`npm run convert -- --int8\`` };
  }
  if (!source.verified && !onDisk) return { reason: `no ${INT8_ONNX_FILE}; make it with \`npm run convert -- --int8\`` };
  const { file, bytes } = await readArtifact(source, INT8_ONNX_FILE, 'the int8 check');
  return { bytes, artifact: file };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeRun(b: Backend, batch: ImageBatch): Promise<number> {
  const t0 = performance.now();
  await b.run(batch);
  return performance.now() - t0;
}

export interface Int8CheckContext {
  readonly batch: ImageBatch;
  readonly inputs: readonly VerifyInput[];
  readonly refDetections: DetectionRecord[][];
  readonly decode: (raw: RawOutputs) => DetectionRecord[][];
  /** Interleaved timed runs of int8 and fp32 for the speed ratio (0: no timing). */
  readonly runs: number;
  /** In-memory model_int8.onnx (tests); default: the preset's file. */
  readonly bytes?: Uint8Array;
}

/** The int8 row of a preset: 'unavailable' without model_int8.onnx, onnxruntime-node or seed photos. */
export async function checkInt8Onnx(source: ModelSource, ctx: Int8CheckContext): Promise<Int8Report> {
  const label = `${source.preset.name} / ${INT8_ONNX_FILE}`;
  const base: Int8Report = {
    artifact: INT8_ONNX_FILE,
    status: 'unavailable',
    reason: null,
    judgedOn: [],
    tolerances: { cornerPctOfFace: INT8_TOLERANCES.cornerFraction * 100, score: INT8_TOLERANCES.score },
    faces: [],
    worstCornerPct: null,
    worstScoreDiff: null,
    worst: null,
    timing: null,
    failures: [],
  };
  const found = await int8Bytes(source, ctx.bytes);
  if ('reason' in found) return { ...base, reason: found.reason };
  const avail = await onnxruntimeNodeBackend.availability();
  if (!avail.available) return { ...base, artifact: found.artifact, reason: avail.reason ?? 'onnxruntime-node unavailable' };
  const seed = ctx.inputs.flatMap((input, k) => (input.kind === 'seed-photo' ? [k] : []));
  if (seed.length === 0) return { ...base, artifact: found.artifact, reason: 'no seed photos among the inputs (../shared/seed missing): the int8 verdict is judged on them' };
  let int8: Backend | null = null;
  let fp32: Backend | null = null;
  try {
    int8 = await onnxruntimeNodeBackend.load({ ...source, overrides: { ...source.overrides, onnx: found.bytes } });
    const got = ctx.decode(await int8.run(ctx.batch));
    const verdict = judgeFaces(
      seed.map((k) => ctx.refDetections[k]!),
      seed.map((k) => got[k]!),
      seed.map((k) => ctx.inputs[k]!.name),
      label,
    );
    let timing: Int8Report['timing'] = null;
    if (ctx.runs > 0) {
      fp32 = await onnxruntimeNodeBackend.load(source);
      await fp32.run(ctx.batch);
      const t8: number[] = [];
      const t32: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        t8.push(await timeRun(int8, ctx.batch));
        t32.push(await timeRun(fp32, ctx.batch));
      }
      const [m8, m32] = [median(t8), median(t32)];
      timing = { batch: ctx.batch.shape[0], runs: ctx.runs, int8MsPerRun: m8, fp32MsPerRun: m32, speedup: m32 / m8 };
    }
    return {
      ...base,
      artifact: found.artifact,
      status: verdict.pass ? 'pass' : 'fail',
      judgedOn: seed.map((k) => ctx.inputs[k]!.name),
      faces: verdict.faces,
      worstCornerPct: verdict.worstCornerPct,
      worstScoreDiff: verdict.worstScoreDiff,
      worst: verdict.worst,
      timing,
      failures: verdict.failures,
    };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ...base, artifact: found.artifact, status: 'error', reason, failures: [`${label}: ${reason}`] };
  } finally {
    await int8?.dispose();
    await fp32?.dispose();
  }
}

// The parity comparison, pure: raw outputs of a backend against the reference's, per input and
// tensor, plus decoded detections. No I/O, so tests can feed it in-memory outputs.
import type { RawOutputs } from '../backends/backend.js';
import type {
  DetectionAgreement,
  DetectionRecord,
  ElementIndex,
  InputResult,
  TensorStats,
  Tolerances,
} from './report-types.js';

export const DEFAULT_TOLERANCES: Tolerances = { rawMaxErr: 1e-4, detectionCoord: 1e-5, detectionScore: 1e-5 };

/** Below this |ref| an element is left out of max_rel (relative error of near-zero values says nothing). */
export const REL_FLOOR = 1e-3;

export interface CompareContext {
  /** Named in failure messages. */
  readonly preset?: string;
  readonly backend?: string;
  /** Decodes raw outputs to faces per input; without it detections are not compared. */
  readonly decode?: (raw: RawOutputs) => DetectionRecord[][];
  /** The reference's decoded faces, when already known (saves decoding the reference per backend). */
  readonly refDetections?: DetectionRecord[][];
}

export interface Comparison {
  readonly pass: boolean;
  readonly inputs: InputResult[];
  /** Messages naming preset / backend / input / tensor[0, anchor, coord]. */
  readonly failures: string[];
  readonly refDetections: DetectionRecord[][] | null;
  readonly gotDetections: DetectionRecord[][] | null;
}

type TensorName = 'regressors' | 'classificators';
const TENSORS: readonly TensorName[] = ['regressors', 'classificators'];
const COORD_NAMES = ['ymin', 'xmin', 'ymax', 'xmax'];
const KEYPOINT_NAMES = ['right eye', 'left eye', 'nose', 'mouth', 'right ear', 'left ear'];

/** Short, stable number formatting for messages: 0.02, 3.1e-6, 1.5. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(3)));
  return x.toExponential(2).replace(/\.?0+e/, 'e');
}

/** Tolerances print as written: 1e-4, 2.5e-5. */
export function fmtTol(x: number): string {
  return x.toExponential().replace('e+0', '');
}

function inputName(input: string | { readonly name: string } | undefined, n: number): string {
  if (input === undefined) return `input ${n}`;
  return typeof input === 'string' ? input : input.name;
}

function prefix(ctx: CompareContext, input: string): string {
  return `${ctx.preset ?? '?'} / ${ctx.backend ?? '?'} / ${input}`;
}

function shapeOf(raw: RawOutputs, tensor: TensorName): number[] {
  return [raw.batch, raw.numAnchors, tensor === 'regressors' ? raw.numCoords : 1];
}

/** Max-error statistics of one input's slice of one tensor. Non-finite values in `got` always fail. */
function tensorStats(
  ref: Float32Array | Float64Array,
  got: Float32Array | Float64Array,
  start: number,
  width: number,
  coords: number,
  tol: number,
): TensorStats & { exceeding: number } {
  let maxAbs = 0;
  let maxRel = 0;
  let maxErr = -1;
  let worst = 0;
  let exceeding = 0;
  let firstNonFinite = -1;
  for (let i = 0; i < width; i++) {
    const r = ref[start + i]!;
    const g = got[start + i]!;
    if (!Number.isFinite(g) || !Number.isFinite(r)) {
      if (firstNonFinite < 0) firstNonFinite = i;
      exceeding++;
      continue;
    }
    const d = Math.abs(g - r);
    const ar = Math.abs(r);
    const err = d / (1 + ar);
    if (d > maxAbs) maxAbs = d;
    if (ar >= REL_FLOOR && d / ar > maxRel) maxRel = d / ar;
    if (err > maxErr) {
      maxErr = err;
      worst = i;
    }
    if (err > tol) exceeding++;
  }
  const at = (i: number): ElementIndex => ({ anchor: Math.floor(i / coords), coord: i % coords });
  if (firstNonFinite >= 0) {
    return {
      maxAbs: null,
      maxRel: null,
      maxErr: null,
      at: at(firstNonFinite),
      ref: Number.isFinite(ref[start + firstNonFinite]!) ? ref[start + firstNonFinite]! : null,
      got: Number.isFinite(got[start + firstNonFinite]!) ? got[start + firstNonFinite]! : null,
      pass: false,
      exceeding,
    };
  }
  return {
    maxAbs,
    maxRel,
    maxErr: Math.max(maxErr, 0),
    at: width > 0 ? at(worst) : null,
    ref: width > 0 ? ref[start + worst]! : null,
    got: width > 0 ? got[start + worst]! : null,
    pass: exceeding === 0,
    exceeding,
  };
}

export function boxIoU(a: DetectionRecord, b: DetectionRecord): number {
  const [ay0, ax0, ay1, ax1] = a.box;
  const [by0, bx0, by1, bx1] = b.box;
  const iw = Math.min(ax1, bx1) - Math.max(ax0, bx0);
  const ih = Math.min(ay1, by1) - Math.max(ay0, by0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

function coordsOf(d: DetectionRecord): number[] {
  return [...d.box, ...d.keypoints.flat()];
}

function coordName(c: number): string {
  if (c < 4) return COORD_NAMES[c]!;
  const k = Math.floor((c - 4) / 2);
  return `${KEYPOINT_NAMES[k] ?? `keypoint ${k}`}.${(c - 4) % 2 === 0 ? 'x' : 'y'}`;
}

/**
 * Match every reference face (in the reference's order, best score first) to the unmatched backend
 * face with the highest IoU, then compare counts, coordinates and scores.
 */
export function compareDetections(
  ref: readonly DetectionRecord[],
  got: readonly DetectionRecord[],
  tolerances: Tolerances,
  label = '',
): { agreement: DetectionAgreement; failures: string[] } {
  const failures: string[] = [];
  const taken = new Set<number>();
  let minIoU: number | null = null;
  let maxCoordDiff = 0;
  let maxScoreDiff = 0;
  let worstCoord: { face: number; coord: number; diff: number; ref: number; got: number } | null = null;
  let worstScore: { face: number; diff: number; ref: number; got: number } | null = null;
  ref.forEach((r, i) => {
    let best = -1;
    let bestIoU = 0;
    got.forEach((g, j) => {
      if (taken.has(j)) return;
      const iou = boxIoU(r, g);
      if (iou > bestIoU) {
        bestIoU = iou;
        best = j;
      }
    });
    if (best < 0) {
      failures.push(`${label}detections[${i}]: reference face (score ${fmt(r.score)}) has no overlapping face`);
      return;
    }
    taken.add(best);
    const g = got[best]!;
    minIoU = minIoU === null ? bestIoU : Math.min(minIoU, bestIoU);
    const rc = coordsOf(r);
    const gc = coordsOf(g);
    rc.forEach((v, c) => {
      const d = Math.abs(gc[c]! - v);
      if (!(d <= maxCoordDiff)) {
        maxCoordDiff = Number.isNaN(d) ? Infinity : d;
        worstCoord = { face: i, coord: c, diff: d, ref: v, got: gc[c]! };
      }
    });
    const sd = Math.abs(g.score - r.score);
    if (!(sd <= maxScoreDiff)) {
      maxScoreDiff = Number.isNaN(sd) ? Infinity : sd;
      worstScore = { face: i, diff: sd, ref: r.score, got: g.score };
    }
  });
  const countEqual = ref.length === got.length;
  if (!countEqual) {
    const extra = got.filter((_, j) => !taken.has(j)).map((g) => fmt(g.score));
    failures.push(
      `${label}detections: ${got.length} faces, reference ${ref.length}` + (extra.length > 0 ? ` (unmatched scores ${extra.join(', ')})` : ''),
    );
  }
  const wc = worstCoord as { face: number; coord: number; diff: number; ref: number; got: number } | null;
  if (wc && !(wc.diff <= tolerances.detectionCoord)) {
    failures.push(
      `${label}detections[${wc.face}].${coordName(wc.coord)}: |diff| ${fmt(wc.diff)} > ${fmtTol(tolerances.detectionCoord)} (ref ${fmt(wc.ref)}, got ${fmt(wc.got)})`,
    );
  }
  const ws = worstScore as { face: number; diff: number; ref: number; got: number } | null;
  if (ws && !(ws.diff <= tolerances.detectionScore)) {
    failures.push(
      `${label}detections[${ws.face}].score: |diff| ${fmt(ws.diff)} > ${fmtTol(tolerances.detectionScore)} (ref ${fmt(ws.ref)}, got ${fmt(ws.got)})`,
    );
  }
  return {
    agreement: {
      refCount: ref.length,
      gotCount: got.length,
      countEqual,
      minIoU,
      maxCoordDiff: Number.isFinite(maxCoordDiff) ? maxCoordDiff : Number.MAX_VALUE,
      maxScoreDiff: Number.isFinite(maxScoreDiff) ? maxScoreDiff : Number.MAX_VALUE,
      pass: failures.length === 0,
    },
    failures,
  };
}

/**
 * Compare a backend's raw outputs with the reference's, input by input. `inputs[n]` names batch
 * element n. Each (input, tensor) that exceeds tolerance gives one message at its worst element:
 * "short_range / onnxruntime-web / 3faces.png / regressors[0, 512, 3]: |diff| 0.02 > 1e-4*(1+|ref|) ...".
 */
export function compareOutputs(
  ref: RawOutputs,
  got: RawOutputs,
  inputs: readonly (string | { readonly name: string })[],
  tolerances: Tolerances = DEFAULT_TOLERANCES,
  ctx: CompareContext = {},
): Comparison {
  const failures: string[] = [];
  const results: InputResult[] = [];
  const shapeOk =
    got.batch === ref.batch &&
    got.numAnchors === ref.numAnchors &&
    got.numCoords === ref.numCoords &&
    got.regressors.length === ref.regressors.length &&
    got.classificators.length === ref.classificators.length;
  if (!shapeOk) {
    for (const t of TENSORS) {
      failures.push(
        `${ctx.preset ?? '?'} / ${ctx.backend ?? '?'} / ${t}: shape [${shapeOf(got, t).join(', ')}] (${got[t].length} values), reference [${shapeOf(ref, t).join(', ')}] (${ref[t].length} values)`,
      );
    }
  }
  if (ref.batch !== inputs.length) {
    throw new Error(`compareOutputs: reference batch ${ref.batch} but ${inputs.length} input names`);
  }

  let refDets = ctx.refDetections ?? null;
  let gotDets: DetectionRecord[][] | null = null;
  if (ctx.decode && shapeOk) {
    refDets ??= ctx.decode(ref);
    gotDets = ctx.decode(got);
  }

  for (let n = 0; n < ref.batch; n++) {
    const name = inputName(inputs[n], n);
    const stats: Partial<Record<TensorName, TensorStats>> = {};
    for (const t of TENSORS) {
      const coords = t === 'regressors' ? ref.numCoords : 1;
      const width = ref.numAnchors * coords;
      if (!shapeOk) {
        stats[t] = { maxAbs: null, maxRel: null, maxErr: null, at: null, ref: null, got: null, pass: false };
        continue;
      }
      const { exceeding, ...s } = tensorStats(ref[t], got[t], n * width, width, coords, tolerances.rawMaxErr);
      stats[t] = s;
      if (!s.pass) {
        const where = s.at ? `${t}[0, ${s.at.anchor}, ${s.at.coord}]` : t;
        const what =
          s.maxErr === null
            ? `non-finite value (got ${String(s.got ?? got[t][n * width + (s.at ? s.at.anchor * coords + s.at.coord : 0)])}, ref ${s.ref === null ? 'non-finite' : fmt(s.ref)})`
            : `|diff| ${fmt(Math.abs(s.got! - s.ref!))} > ${fmtTol(tolerances.rawMaxErr)}*(1+|ref|) (ref ${fmt(s.ref!)}, got ${fmt(s.got!)})`;
        failures.push(`${prefix(ctx, name)} / ${where}: ${what}; ${exceeding} of ${width} values out of tolerance`);
      }
    }
    let detections: DetectionAgreement | null = null;
    if (refDets && gotDets) {
      const d = compareDetections(refDets[n] ?? [], gotDets[n] ?? [], tolerances, `${prefix(ctx, name)} / `);
      detections = d.agreement;
      failures.push(...d.failures);
    }
    const regressors = stats.regressors!;
    const classificators = stats.classificators!;
    results.push({
      input: name,
      regressors,
      classificators,
      detections,
      pass: regressors.pass && classificators.pass && (detections?.pass ?? true),
    });
  }
  return {
    pass: shapeOk && results.every((r) => r.pass),
    inputs: results,
    failures,
    refDetections: refDets,
    gotDetections: gotDets,
  };
}

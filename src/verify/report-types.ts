// Schema of artifacts/parity/report.json, as TypeScript. The same schema as JSON Schema lives in
// schemas/parity-report.schema.json; test/verify-report.test.ts checks that real reports satisfy it.
// Every field is deterministic for a given machine except those under `timing`.

export const PARITY_REPORT_SCHEMA_VERSION = 1 as const;

export type InputKind = 'seed-photo' | 'tfjs-models-face' | 'random';

export interface Tolerances {
  /** Raw outputs pass when max |got - ref| / (1 + |ref|) <= rawMaxErr for every element. */
  rawMaxErr: number;
  /** Decoded detections: max |got - ref| of any normalized box/keypoint coordinate. */
  detectionCoord: number;
  /** Decoded detections: max |got - ref| of a score (after sigmoid). */
  detectionScore: number;
}

export interface InputInfo {
  /** Index of the input in every batch (all backends run all inputs as one batch). */
  index: number;
  name: string;
  kind: InputKind;
  origin: string;
}

/** Position of an element in a per-input tensor of shape [1, anchors, coords]. */
export interface ElementIndex {
  anchor: number;
  coord: number;
}

/** Difference statistics of one output tensor for one input. */
export interface TensorStats {
  /** max |got - ref|. */
  maxAbs: number | null;
  /** max |got - ref| / |ref| over elements with |ref| >= 1e-3 (relative error of near-zero values is noise). */
  maxRel: number | null;
  /** max |got - ref| / (1 + |ref|): the tolerance metric. null when the output holds NaN/Infinity. */
  maxErr: number | null;
  /** Where maxErr occurs; null when the shapes disagree. */
  at: ElementIndex | null;
  /** The reference and the backend values at `at`. */
  ref: number | null;
  got: number | null;
  pass: boolean;
}

/** One decoded face: normalized [0,1] coordinates of the model input. */
export interface DetectionRecord {
  /** [ymin, xmin, ymax, xmax]. */
  box: [number, number, number, number];
  /** Six [x, y]: right eye, left eye, nose, mouth, right ear, left ear (the person's right). */
  keypoints: [number, number][];
  score: number;
}

export interface DetectionAgreement {
  refCount: number;
  gotCount: number;
  countEqual: boolean;
  /** Smallest IoU between a reference face and its matched backend face; null when nothing was matched. */
  minIoU: number | null;
  /** Max |diff| over the 16 normalized coordinates of matched faces (0 when nothing was matched). */
  maxCoordDiff: number;
  maxScoreDiff: number;
  pass: boolean;
}

export interface InputResult {
  input: string;
  regressors: TensorStats;
  classificators: TensorStats;
  /** null when detections were not decoded (compareOutputs called without a decoder). */
  detections: DetectionAgreement | null;
  pass: boolean;
}

export interface BackendTiming {
  /** Time to load the model (ms). */
  loadMs: number;
  /** Median wall time of one run of the whole batch (ms), over `runs` timed runs after the compared run. */
  msPerRun: number;
  /** msPerRun / batch size. */
  msPerImage: number;
  runs: number;
  /** True when the run was too slow to repeat and msPerRun is the first (warm-up) run. */
  warmupIncluded: boolean;
}

interface BackendBase {
  backend: string;
}

/** A backend that ran and was compared with the reference. */
export interface BackendRun extends BackendBase {
  status: 'pass' | 'fail';
  version: string;
  /** Which file the backend runs: 'tflite' (the original) or a converted artifact ('model.onnx', ...). */
  runs: string;
  artifact: string;
  /** Facts from the backend, e.g. that it loops over the batch. */
  notes: string[];
  batch: number;
  timing: BackendTiming;
  /** The input/tensor holding the largest maxErr over the whole batch. */
  worst: { input: string; tensor: 'regressors' | 'classificators'; maxErr: number | null; maxAbs: number | null; at: ElementIndex | null };
  /** Largest detection coordinate/score differences over all inputs. */
  worstDetection: { maxCoordDiff: number; maxScoreDiff: number; countMismatches: number };
  /** Browser rows: every input's decoded faces agree (count, coordinates, scores), whatever the raw verdict. */
  detectionsAgree?: boolean;
  inputs: InputResult[];
  /** Decoded faces per input (same order as `inputs`), for the overlays. */
  detections: DetectionRecord[][];
  /** Human-readable failure messages naming preset / backend / input / tensor[index]. */
  failures: string[];
}

/** availability() said no. */
export interface BackendUnavailable extends BackendBase {
  status: 'unavailable';
  reason: string;
}

/** Available, but loading or running threw: counts as a failure. */
export interface BackendError extends BackendBase {
  status: 'error';
  stage: 'load' | 'run';
  error: string;
  failures: string[];
}

export type BackendReport = BackendRun | BackendUnavailable | BackendError;

export interface ReferenceRun {
  backend: 'reference';
  version: string;
  artifact: string;
  notes: string[];
  timing: BackendTiming;
  detections: DetectionRecord[][];
}

/**
 * model_decoded.onnx (the network plus the anchor decode, run on onnxruntime-node) against the TypeScript
 * decode of model.onnx's raw outputs, over every anchor of every input.
 */
export interface DecodedOnnxReport {
  artifact: string;
  status: 'pass' | 'fail' | 'unavailable' | 'error';
  /** Why it is unavailable or errored; null otherwise. */
  reason: string | null;
  comparedWith: string;
  /** Max |diff| of a normalized box or keypoint coordinate; null when not run or non-finite. */
  maxCoordDiff: number | null;
  /** Max |diff| of an anchor score (after sigmoid). */
  maxScoreDiff: number | null;
  /** The element furthest out relative to its tolerance. */
  worst: { input: string; output: 'boxes' | 'keypoints' | 'scores'; anchor: number; coord: number } | null;
  /** Anchors skipped on both sides because the decoded box has a negative size (MediaPipe drops them). */
  negativeSizeAnchors: number;
  failures: string[];
}

/**
 * model_int8.onnx (`convert --int8`) judged at the face level on the seed photos: same face counts as the
 * float64 reference, box corners within `tolerances.cornerPctOfFace` % of the face size, scores within
 * `tolerances.score`; plus its speed beside model.onnx on onnxruntime-node.
 */
export interface Int8Report {
  artifact: string;
  status: 'pass' | 'fail' | 'unavailable' | 'error';
  /** Why it is unavailable or errored; null otherwise. */
  reason: string | null;
  /** The inputs judged (the seed photos). */
  judgedOn: string[];
  tolerances: { cornerPctOfFace: number; score: number };
  /** Face counts per judged input. */
  faces: { input: string; ref: number; got: number }[];
  /** Worst box-corner error, % of the reference face's height (y) or width (x); null when no face was matched. */
  worstCornerPct: number | null;
  worstScoreDiff: number | null;
  worst: { input: string; face: number; corner: 'ymin' | 'xmin' | 'ymax' | 'xmax' } | null;
  /** Medians of interleaved runs on the verifier's batch, onnxruntime-node default session; speedup = fp32 / int8. */
  timing: { batch: number; runs: number; int8MsPerRun: number; fp32MsPerRun: number; speedup: number } | null;
  failures: string[];
}

export interface PresetReport {
  preset: string;
  description: string;
  inputWidth: number;
  inputHeight: number;
  numAnchors: number;
  model: { fileName: string; sha256: string };
  decode: { minScoreThresh: number; nms: 'blend'; minSuppressionThreshold: number };
  /** The oracle every backend is compared with; null when the preset could not be loaded. */
  reference: ReferenceRun | null;
  /** Set when the model or the reference could not be loaded/run: the whole preset fails. */
  error: string | null;
  /**
   * Set when artifacts/manifest.json does not vouch for this preset's artifacts (missing, stale). Not a
   * failure by itself: the backends still run on whatever files are there and their parity decides.
   */
  artifactWarning: string | null;
  backends: BackendReport[];
  /** The model_decoded.onnx check; null when the preset could not be loaded. */
  decodedOnnx: DecodedOnnxReport | null;
  /** The model_int8.onnx verdict; absent or null when the preset could not be loaded. */
  int8?: Int8Report | null;
  pass: boolean;
}

export interface ParityReport {
  schemaVersion: typeof PARITY_REPORT_SCHEMA_VERSION;
  tool: { name: string; version: string };
  tolerances: Tolerances;
  inputs: InputInfo[];
  presets: PresetReport[];
  /** verify --browser: the browser the `browser:*` rows ran in. */
  browser?: BrowserInfo;
  summary: {
    pass: boolean;
    /** (preset, backend) pairs compared, by outcome. */
    passed: number;
    failed: number;
    unavailable: number;
    failures: string[];
  };
}

/** The headless browser of `verify --browser`. */
export interface BrowserInfo {
  name: string;
  version: string;
  userAgent: string;
  /** WebGL's unmasked renderer (SwiftShader on a machine without a GPU); null without WebGL. */
  webglRenderer: string | null;
  webglVersion: string | null;
  /** Whether the page could use threads (SharedArrayBuffer); the runtimes run one thread either way. */
  crossOriginIsolated: boolean;
}

// Messages between detectMany and its worker threads: plain, structured-clonable records (a Face is a
// class with a private field, an error a class with a code), and the conversions both ends share.
import {
  ArtifactIntegrityError,
  BackendError,
  BackendUnavailableError,
  InputImageError,
  OutputPathError,
  ToolkitError,
} from '../errors.js';
import type { DetectorOptions } from './detector.js';
import { Face, type KeypointName, type Point } from './face.js';
import type { RawImage } from './input.js';

export interface WorkerInit {
  readonly options: DetectorOptions;
  readonly intraOpThreads?: number;
}

/** Files a worker writes besides detecting (CLI: --out, --crops); names are chosen by the caller. */
export interface TaskExtras {
  readonly annotated?: { readonly file: string; readonly format: 'png' | 'jpeg' };
  /** Crops go to `<stem>-face<k>.jpg`, k = 1, 2, ... in score order. */
  readonly crops?: { readonly stem: string };
  readonly overwrite: boolean;
  /** dev:ino of the input, never overwritten. */
  readonly inputIds: readonly string[];
}

export interface WorkerTask {
  readonly id: number;
  readonly input: string | Uint8Array | RawImage;
  readonly label: string;
  readonly extras?: TaskExtras;
}

export interface ErrorRecord {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly file?: string;
}

export interface FaceRecord {
  readonly box: { xMin: number; yMin: number; xMax: number; yMax: number };
  readonly keypoints: Record<KeypointName, Point>;
  readonly score: number;
  readonly normalized: number[];
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly width: number; readonly height: number; readonly faces: FaceRecord[]; readonly written: string[] }
  | { readonly id: number; readonly ok: false; readonly error: ErrorRecord; readonly written?: string[] };

export function faceToRecord(face: Face): FaceRecord {
  const { xMin, yMin, xMax, yMax } = face.box;
  return { box: { xMin, yMin, xMax, yMax }, keypoints: { ...face.keypoints }, score: face.score, normalized: face.toArray() };
}

export function faceFromRecord(r: FaceRecord): Face {
  return new Face(r.box, r.keypoints, r.score, r.normalized);
}

export function errorRecord(err: unknown): ErrorRecord {
  if (err instanceof ToolkitError) return { name: err.name, code: err.code, message: err.message, file: (err as { file?: string }).file };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, code: 'ERROR', message: e.message };
}

const ERROR_CLASSES: Record<string, new (code: string, message: string, options?: { file?: string }) => ToolkitError> = {
  InputImageError,
  OutputPathError,
  BackendError,
  BackendUnavailableError,
  ArtifactIntegrityError,
};

/** The error again, as its own ToolkitError subclass when it is one of the per-image kinds (else ToolkitError). */
export function errorFromRecord(r: ErrorRecord): ToolkitError {
  const Cls = ERROR_CLASSES[r.name] ?? ToolkitError;
  return new Cls(r.code, r.message, r.file ? { file: r.file } : {});
}

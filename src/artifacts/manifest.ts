// artifacts/manifest.json: the sha256 and size of every artifact and of the model it was made from.
// Loading goes through here, so a file that was edited, truncated or left over from another model is refused.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactIntegrityError } from '../errors.js';
import { REPO_ROOT } from '../fixtures.js';
import { sha256Hex } from '../util/fs.js';

export const DEFAULT_ARTIFACTS_ROOT = path.join(REPO_ROOT, 'artifacts');
export const MANIFEST_FILE = 'manifest.json';

export interface FileRecord {
  /** Path relative to the artifacts root, with forward slashes. */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface SourceRecord {
  readonly fileName: string;
  /** npm package and version the model came from, or 'user-supplied'. */
  readonly origin: string;
  readonly sha256: string;
  readonly size: number;
}

export interface PresetRecord {
  readonly source: SourceRecord;
  readonly files: readonly FileRecord[];
  /** Artifacts deliberately not produced, with the reason (e.g. no PyTorch layout for full_range). */
  readonly skipped: Readonly<Record<string, string>>;
}

export interface Manifest {
  readonly generated: string;
  readonly toolkit: string;
  readonly presets: Readonly<Record<string, PresetRecord>>;
  /** Files not tied to one preset (anchor tables of `npm run anchors`). */
  readonly files: readonly FileRecord[];
}

export function readManifest(root: string = DEFAULT_ARTIFACTS_ROOT): Manifest {
  const file = path.join(root, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new ArtifactIntegrityError('MANIFEST_MISSING', `${file} does not exist; run \`npm run convert\` to build the artifacts`, { file });
  }
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.presets !== 'object') throw new Error('no "presets" object');
    return { ...parsed, files: parsed.files ?? [] };
  } catch (err) {
    throw new ArtifactIntegrityError('MANIFEST_INVALID', `${file}: not a valid manifest (${(err as Error).message}); run \`npm run convert\``, { file, cause: err });
  }
}

/** Stable JSON: keys in insertion order as built by the writer, two-space indent, trailing newline. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function fileRecord(root: string, absPath: string, bytes: Uint8Array): FileRecord {
  return { path: path.relative(root, absPath).split(path.sep).join('/'), sha256: sha256Hex(bytes), size: bytes.byteLength };
}

/** Check one file against its record; returns its bytes. */
export async function readVerifiedFile(root: string, record: FileRecord): Promise<Uint8Array> {
  const file = path.join(root, record.path);
  const hint = 'run `npm run convert` to rebuild the artifacts';
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${file}: listed in ${MANIFEST_FILE} but cannot be read; ${hint}`, { file, cause: err });
  }
  const digest = sha256Hex(bytes);
  if (bytes.byteLength !== record.size || digest !== record.sha256) {
    throw new ArtifactIntegrityError(
      'ARTIFACT_CHECKSUM',
      `${file}: sha256 ${digest} (${bytes.byteLength} bytes) does not match ${MANIFEST_FILE} (${record.sha256}, ${record.size} bytes); ${hint}`,
      { file },
    );
  }
  return bytes;
}

/** Verify every file of one preset and that the model file is the one the artifacts were made from. */
export async function verifyPresetArtifacts(
  root: string,
  presetName: string,
  modelBytes?: Uint8Array,
  modelPath?: string,
): Promise<PresetRecord> {
  const manifest = readManifest(root);
  const record = manifest.presets[presetName];
  if (!record) {
    throw new ArtifactIntegrityError(
      'PRESET_NOT_CONVERTED',
      `${path.join(root, MANIFEST_FILE)} has no artifacts for preset '${presetName}'; run \`npm run convert -- --preset ${presetName}${
        record === undefined ? ' --model-file <file.tflite>' : ''
      }\``,
    );
  }
  if (modelBytes) {
    const digest = sha256Hex(modelBytes);
    if (digest !== record.source.sha256) {
      throw new ArtifactIntegrityError(
        'SOURCE_MISMATCH',
        `${modelPath ?? record.source.fileName}: sha256 ${digest} differs from the model the '${presetName}' artifacts were made from (${record.source.sha256}); run \`npm run convert\` for this file`,
        { file: modelPath },
      );
    }
  }
  await Promise.all(record.files.map((f) => readVerifiedFile(root, f)));
  return record;
}

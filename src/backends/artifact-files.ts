// How a backend gets the bytes of its artifact: from the set verified against the manifest when the
// source carries one (a file the manifest does not list is refused, never read from disk unchecked),
// else from <artifactsDir> as is (verification opted out, or a hand-built source in tests).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE } from '../artifacts/manifest.js';
import { ArtifactIntegrityError } from '../errors.js';
import type { ModelSource } from './backend.js';

export interface ArtifactFile {
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** The verified entry for `name` (path relative to the preset folder), or ARTIFACT_UNLISTED. Null without verification. */
export function listedArtifact(source: ModelSource, name: string, runtime: string): ArtifactFile | null {
  const verified = source.verified;
  if (!verified) return null;
  const entry = verified.files.get(name);
  if (!entry) {
    const file = path.join(verified.dir, ...name.split('/'));
    throw new ArtifactIntegrityError(
      'ARTIFACT_UNLISTED',
      `${file}: ${runtime} needs this file, but ${MANIFEST_FILE} does not list it with a sha256 for preset '${source.preset.name}' (it lists ${[...verified.files.keys()].join(', ') || 'nothing'}); run \`npm run convert\``,
      { file },
    );
  }
  return entry;
}

/** `name` inside the preset folder: verified bytes, or (without verification) read from disk. */
export async function readArtifact(source: ModelSource, name: string, runtime: string): Promise<ArtifactFile> {
  const listed = listedArtifact(source, name, runtime);
  if (listed) return listed;
  const file = path.join(source.artifactsDir, ...name.split('/'));
  try {
    return { file, bytes: new Uint8Array(await readFile(file)) };
  } catch (err) {
    throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${file}: ${runtime} cannot read it (${(err as Error).message}); run \`npm run convert\` first`, { file, cause: err });
  }
}

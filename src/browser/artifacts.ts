// Artifacts in the browser: fetched by URL and checked against artifacts/manifest.json's sha256 (with
// SubtleCrypto) before any runtime sees them. A mismatch is the same ArtifactIntegrityError (and code)
// as under Node (src/artifacts/manifest.ts).
import type { Manifest, PresetRecord } from '../artifacts/manifest.js';
import { ArtifactIntegrityError } from '../errors.js';

const HINT = 'rebuild with `npm run convert` and serve the new artifacts/ folder';

function joinUrl(base: string, rel: string): string {
  return `${base.replace(/\/+$/, '')}/${rel}`;
}

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${url}: cannot fetch the ${what} (${err instanceof Error ? err.message : String(err)})`, { file: url, cause: err });
  }
  if (!res.ok) throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${url}: HTTP ${res.status} fetching the ${what}`, { file: url });
  return new Uint8Array(await res.arrayBuffer());
}

/** Lower-case hex sha256 through SubtleCrypto (only in secure contexts: https, localhost, 127.0.0.1). */
export async function sha256HexBrowser(bytes: Uint8Array, label: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new ArtifactIntegrityError(
      'ARTIFACT_UNVERIFIABLE',
      `${label}: cannot check the sha256: SubtleCrypto is unavailable (the page is not a secure context; serve it over https or from localhost)`,
      { file: label },
    );
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The artifacts of one preset behind a base URL, each file checked against the manifest when fetched. */
export interface ArtifactSource {
  readonly artifactsUrl: string;
  readonly preset: string;
  readonly record: PresetRecord;
  /** Bytes of `<preset>/<rel>` (e.g. 'model.onnx', 'tfjs/model.json'), verified; the URL it came from. */
  file(rel: string): Promise<{ bytes: Uint8Array; url: string }>;
  /** Bytes at `url` checked against the preset's source model (the .tflite the artifacts were made from). */
  sourceModel(url: string): Promise<Uint8Array>;
}

export async function openArtifacts(artifactsUrl: string, preset: string): Promise<ArtifactSource> {
  const manifestUrl = joinUrl(artifactsUrl, 'manifest.json');
  const text = new TextDecoder().decode(await fetchBytes(manifestUrl, 'artifact manifest'));
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
    if (typeof manifest !== 'object' || manifest === null || typeof manifest.presets !== 'object') throw new Error('no "presets" object');
  } catch (err) {
    throw new ArtifactIntegrityError('MANIFEST_INVALID', `${manifestUrl}: not a valid manifest (${(err as Error).message}); ${HINT}`, { file: manifestUrl, cause: err });
  }
  const record = manifest.presets[preset];
  if (!record) {
    throw new ArtifactIntegrityError('PRESET_NOT_CONVERTED', `${manifestUrl} has no artifacts for preset '${preset}'; run \`npm run convert -- --preset ${preset}\``, { file: manifestUrl });
  }
  return {
    artifactsUrl,
    preset,
    record,
    async file(rel) {
      const path = `${preset}/${rel}`;
      const entry = record.files.find((f) => f.path === path);
      const url = joinUrl(artifactsUrl, path);
      if (!entry) throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${url}: ${path} is not listed in ${manifestUrl}; ${HINT}`, { file: url });
      const bytes = await fetchBytes(url, 'artifact');
      const digest = await sha256HexBrowser(bytes, url);
      if (bytes.byteLength !== entry.size || digest !== entry.sha256) {
        throw new ArtifactIntegrityError(
          'ARTIFACT_CHECKSUM',
          `${url}: sha256 ${digest} (${bytes.byteLength} bytes) does not match ${manifestUrl} (${entry.sha256}, ${entry.size} bytes); ${HINT}`,
          { file: url },
        );
      }
      return { bytes, url };
    },
    async sourceModel(url) {
      const bytes = await fetchBytes(url, 'model');
      const digest = await sha256HexBrowser(bytes, url);
      if (digest !== record.source.sha256) {
        throw new ArtifactIntegrityError(
          'SOURCE_MISMATCH',
          `${url}: sha256 ${digest} differs from the model the '${preset}' artifacts were made from (${record.source.fileName}, ${record.source.sha256})`,
          { file: url },
        );
      }
      return bytes;
    },
  };
}

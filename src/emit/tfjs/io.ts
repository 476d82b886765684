// tfjs IOHandlers for the graph-model this folder emits: read <dir>/model.json and its shards from
// disk, or take them from memory. No fetch, no URLs. The JSON and the shard sizes are checked before
// tfjs sees them, so a damaged artifact fails with the file name rather than deep inside tfjs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { ArtifactIntegrityError } from '../../errors.js';
import { checkModelJson, isRecord, modelJsonError as bad } from './model-json.js';

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, float16: 2 };

function expectedBytes(specs: readonly io.WeightsManifestEntry[], label: string): number {
  let total = 0;
  for (const s of specs) {
    const storage = s.quantization?.dtype ?? s.dtype;
    const size = BYTES_PER_VALUE[storage];
    if (size === undefined) throw bad(label, `weight '${s.name}' has unsupported storage dtype ${storage}`);
    total += s.shape.reduce((a, d) => a * d, 1) * size;
  }
  return total;
}

/** Turn a checked model.json plus its concatenated shard bytes into tfjs ModelArtifacts. */
export function toModelArtifacts(json: unknown, weights: Uint8Array, label: string): io.ModelArtifacts {
  const { model, manifest } = checkModelJson(json, label);
  const weightSpecs = manifest.flatMap((g) => g.weights);
  const expected = expectedBytes(weightSpecs, label);
  if (weights.byteLength !== expected) {
    throw new ArtifactIntegrityError(
      'TFJS_WEIGHTS_SIZE',
      `${label}: weight shards hold ${weights.byteLength} bytes, the manifest describes ${expected}`,
      { file: label },
    );
  }
  return {
    modelTopology: model.modelTopology as object,
    format: 'graph-model',
    generatedBy: typeof model.generatedBy === 'string' ? model.generatedBy : undefined,
    convertedBy: typeof model.convertedBy === 'string' ? model.convertedBy : null,
    weightSpecs,
    // An exact-length copy: tfjs slices this ArrayBuffer by offsets from 0.
    weightData: weights.slice().buffer,
    ...(isRecord(model.signature) ? { signature: model.signature } : {}),
    ...(isRecord(model.userDefinedMetadata) ? { userDefinedMetadata: model.userDefinedMetadata as Record<string, object> } : {}),
  };
}

/** IOHandler over in-memory artifacts (`weights` = all shards concatenated in manifest order). */
export function tfjsMemoryHandler(modelJson: unknown, weights: Uint8Array, label = 'in-memory tfjs model'): io.IOHandler {
  return { load: async () => toModelArtifacts(modelJson, weights, label) };
}

/** IOHandler reading `<dir>/model.json` and the shards it lists from the local disk. */
export function tfjsFileHandler(dir: string): io.IOHandler {
  const jsonPath = path.join(dir, 'model.json');
  return {
    load: async () => {
      let text: string;
      try {
        text = await readFile(jsonPath, 'utf8');
      } catch (err) {
        throw new ArtifactIntegrityError('TFJS_MISSING', `${jsonPath}: cannot read the tfjs model (${(err as Error).message}); run \`npm run convert\``, {
          file: jsonPath,
          cause: err,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw bad(jsonPath, `not valid JSON (${(err as Error).message})`);
      }
      const { manifest } = checkModelJson(json, jsonPath);
      const parts: Uint8Array[] = [];
      for (const p of manifest.flatMap((g) => g.paths)) {
        const shardPath = path.join(dir, p);
        try {
          parts.push(new Uint8Array(await readFile(shardPath)));
        } catch (err) {
          throw new ArtifactIntegrityError('TFJS_MISSING', `${shardPath}: cannot read weight shard listed in ${jsonPath} (${(err as Error).message})`, {
            file: shardPath,
            cause: err,
          });
        }
      }
      const weights = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
      let offset = 0;
      for (const part of parts) {
        weights.set(part, offset);
        offset += part.byteLength;
      }
      return toModelArtifacts(json, weights, jsonPath);
    },
  };
}

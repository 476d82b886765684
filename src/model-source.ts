// Everything a backend needs for one preset: the original .tflite (bytes + IR) and the artifacts folder,
// with the artifacts checked against the manifest unless the caller opts out.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_ARTIFACTS_ROOT, verifyPresetArtifacts, type VerifiedArtifacts } from './artifacts/manifest.js';
import { checkGraphSignature } from './artifacts/signature.js';
import type { ArtifactOverrides, ModelSource } from './backends/backend.js';
import type { Preset } from './presets/types.js';
import { resolvePresetModelFile } from './tflite/model-file.js';
import { readTflite } from './tflite/reader.js';
import { validateGraph } from './ir/validate.js';

export interface ModelSourceOptions {
  /** The .tflite to use (required for user presets: front, back). */
  modelFile?: string;
  /** Root of the artifacts tree (default: the package's artifacts/). */
  artifactsRoot?: string;
  /** Check the preset's artifacts against artifacts/manifest.json (default true). */
  verifyArtifacts?: boolean;
  overrides?: ArtifactOverrides;
}

export async function loadModelSource(preset: Preset, opts: ModelSourceOptions = {}): Promise<ModelSource> {
  const tflitePath = resolvePresetModelFile(preset, opts.modelFile);
  const tfliteBytes = new Uint8Array(await readFile(tflitePath));
  const graph = readTflite(tfliteBytes, path.basename(tflitePath));
  validateGraph(graph);
  checkGraphSignature(preset, graph, tflitePath);
  const artifactsRoot = opts.artifactsRoot ?? DEFAULT_ARTIFACTS_ROOT;
  let verified: VerifiedArtifacts | undefined;
  if (opts.verifyArtifacts ?? true) {
    // Backends then load only these checked bytes: a file the manifest does not list is refused.
    verified = await verifyPresetArtifacts(artifactsRoot, preset.name, tfliteBytes, tflitePath);
  }
  return {
    preset,
    tflitePath,
    tfliteBytes,
    graph,
    artifactsDir: verified?.dir ?? path.join(artifactsRoot, preset.name),
    overrides: opts.overrides,
    ...(verified ? { verified } : {}),
  };
}

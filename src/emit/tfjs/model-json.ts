// The parts of a tfjs graph-model's model.json that tfjs relies on, checked before tfjs sees them, on
// every platform (Node's file handler in ./io.ts and the browser backend): a hostile or damaged file fails
// with the file named instead of deep inside tfjs (or, for the wasm kernels, as a memory fault).
import type { io } from '@tensorflow/tfjs-core';
import { ArtifactIntegrityError } from '../../errors.js';

/** Integer attributes that must also be at least 1 (a 0 or negative stride crashes the wasm kernels). */
const POSITIVE_INT_ATTRS = new Set(['strides', 'dilations', 'ksize']);

export interface ManifestGroup {
  paths: string[];
  weights: io.WeightsManifestEntry[];
}

export function modelJsonError(label: string, what: string): ArtifactIntegrityError {
  return new ArtifactIntegrityError('TFJS_MODEL_JSON', `${label}: ${what}`, { file: label });
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check the parts of model.json tfjs relies on; returns the weights manifest. */
export function checkModelJson(json: unknown, label: string): { model: Record<string, unknown>; manifest: ManifestGroup[] } {
  if (!isRecord(json)) throw modelJsonError(label, 'model.json is not a JSON object');
  if (json.format !== 'graph-model') throw modelJsonError(label, `format is ${JSON.stringify(json.format)}, expected "graph-model"`);
  const topology = json.modelTopology;
  if (!isRecord(topology) || !Array.isArray(topology.node)) throw modelJsonError(label, 'modelTopology.node is missing');
  if (!Array.isArray(json.weightsManifest)) throw modelJsonError(label, 'weightsManifest is missing');
  (topology.node as unknown[]).forEach((node, ni) => checkNodeAttrs(node, ni, label));
  const manifest = json.weightsManifest as unknown[];
  manifest.forEach((g, gi) => {
    if (!isRecord(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw modelJsonError(label, `weightsManifest[${gi}] needs paths and weights`);
    for (const p of g.paths) {
      // Shards live next to model.json; anything else could read outside the artifacts folder.
      if (typeof p !== 'string' || p === '' || /[/\\]/.test(p) || p === '..' || p === '.') {
        throw modelJsonError(label, `weightsManifest[${gi}] path ${JSON.stringify(p)} is not a plain file name`);
      }
    }
    (g.weights as unknown[]).forEach((w, wi) => {
      if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
        throw modelJsonError(label, `weightsManifest[${gi}].weights[${wi}] needs name, shape and dtype`);
      }
    });
  });
  return { model: json, manifest: manifest as ManifestGroup[] };
}


/** Every int attribute (`i`, `list.i`) of a node must hold integers; strides, dilations, ksize positive ones. */
function checkNodeAttrs(node: unknown, ni: number, label: string): void {
  if (!isRecord(node)) throw modelJsonError(label, `modelTopology.node[${ni}] is not an object`);
  if (!isRecord(node.attr)) return;
  for (const [key, value] of Object.entries(node.attr)) {
    if (!isRecord(value)) continue;
    const list = isRecord(value.list) && Array.isArray(value.list.i) ? (value.list.i as unknown[]) : [];
    for (const v of value.i === undefined ? list : [value.i, ...list]) {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      const positive = POSITIVE_INT_ATTRS.has(key);
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || (positive && n < 1)) {
        throw modelJsonError(label, `modelTopology.node[${ni}] (${JSON.stringify(node.name)}) attr ${key}: ${JSON.stringify(v)} is not ${positive ? 'a positive' : 'an'} integer`);
      }
    }
  }
}

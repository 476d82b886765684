// `npm run convert`: one .tflite -> every artifact of its preset, then artifacts/manifest.json.
// All bytes are produced in memory before anything is written, and every write is atomic, so a model
// that fails to convert (not TFLite, unsupported op) leaves the artifacts tree exactly as it was.
// Each converted preset is recorded in the manifest as soon as its files are written.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { generateAnchors } from '../anchors/ssd-anchors-calculator.js';
import {
  DEFAULT_ARTIFACTS_ROOT,
  fileRecord,
  MANIFEST_FILE,
  readManifest,
  updateManifest,
  type FileRecord,
  type PresetRecord,
} from '../artifacts/manifest.js';
import { buildOnnxModel, ONNX_OPSET } from '../emit/onnx/emit.js';
import { encodeModel } from '../emit/onnx/proto.js';
import { emitTfjs } from '../emit/tfjs/emit.js';
import { emitTorch } from '../emit/torch/emit.js';
import type { Graph } from '../ir/graph.js';
import { encodeNpy } from '../npy.js';
import type { Preset } from '../presets/types.js';
import { resolvePresetModelFile } from '../tflite/model-file.js';
import { readTflite } from '../tflite/reader.js';
import { validateGraph } from '../ir/validate.js';
import { checkGraphSignature } from '../artifacts/signature.js';
import { sha256Hex, writeFileAtomic } from '../util/fs.js';
import { installedPackageVersion, TOOLKIT_NAME, TOOLKIT_VERSION } from '../version.js';

export interface ConvertOptions {
  modelFile?: string;
  artifactsRoot?: string;
  /** tfjs weight storage (float16 is lossless for MediaPipe's float16 models). */
  tfjsWeightDtype?: 'float16' | 'float32';
  log?: (line: string) => void;
}

export interface ConvertResult {
  preset: string;
  record: PresetRecord;
  ms: number;
}

/** One artifact produced in memory: its path below artifacts/<preset>/ and its bytes. */
interface PendingFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** What the progress line says about it (node count, weight storage). */
  readonly detail?: string;
}

function buildArtifacts(graph: Graph, preset: Preset, opts: ConvertOptions): { files: PendingFile[]; skipped: Record<string, string> } {
  const files: PendingFile[] = [];
  const skipped: Record<string, string> = {};
  const onnx = buildOnnxModel(graph, preset, { toolkitVersion: TOOLKIT_VERSION });
  files.push({ name: 'model.onnx', bytes: encodeModel(onnx), detail: `${onnx.graph.node.length} nodes, opset ${ONNX_OPSET}` });
  const weightDtype = opts.tfjsWeightDtype ?? 'float16';
  const tfjs = emitTfjs(graph, preset, { weightDtype, toolkitVersion: TOOLKIT_VERSION });
  files.push({ name: 'tfjs/model.json', bytes: Buffer.from(`${JSON.stringify(tfjs.modelJson, null, 2)}\n`), detail: `weights: ${tfjs.weightStorage.float16} float16, ${tfjs.weightStorage.float32} float32 tensors` });
  for (const shard of tfjs.shards) files.push({ name: `tfjs/${shard.fileName}`, bytes: shard.bytes });
  if (preset.torchArchitecture) {
    files.push({ name: 'blazeface.pth', bytes: emitTorch(graph, preset) });
  } else {
    skipped['blazeface.pth'] = `no PyTorch module layout for ${preset.name} (the seed has front and back only)`;
  }
  const anchors = generateAnchors(preset.anchors);
  files.push({ name: 'anchors.npy', bytes: encodeNpy(anchors, [anchors.length / 4, 4]) });
  return { files, skipped };
}

export async function convertPreset(preset: Preset, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const started = performance.now();
  const root = opts.artifactsRoot ?? DEFAULT_ARTIFACTS_ROOT;
  const log = opts.log ?? (() => {});
  const modelPath = resolvePresetModelFile(preset, opts.modelFile);
  const modelBytes = new Uint8Array(await readFile(modelPath));
  const graph = readTflite(modelBytes, path.basename(modelPath));
  // A graph whose operands do not fit must not become artifacts (nor make the reference runtime allocate).
  validateGraph(graph);
  checkGraphSignature(preset, graph, modelPath);
  const { files, skipped } = buildArtifacts(graph, preset, opts);

  // The manifest must never list files that have since been overwritten: unlist the preset before
  // touching its files and list it again once all are written, so a failed write (or a later preset of
  // the same run failing) leaves it unlisted ("run convert"), not listed with stale hashes.
  const toolkit = `${TOOLKIT_NAME} ${TOOLKIT_VERSION}`;
  if (existsSync(path.join(root, MANIFEST_FILE)) && readManifest(root).presets[preset.name]) {
    await updateManifest(root, { removePresets: [preset.name] }, toolkit);
  }
  const presetDir = path.join(root, preset.name);
  const records: FileRecord[] = [];
  for (const file of files) {
    const abs = path.join(presetDir, ...file.name.split('/'));
    await writeFileAtomic(abs, file.bytes);
    const rec = fileRecord(root, abs, file.bytes);
    records.push(rec);
    log(`  ${rec.path.padEnd(44)} ${String(rec.size).padStart(9)} bytes  sha256 ${rec.sha256.slice(0, 16)}${file.detail ? `  (${file.detail})` : ''}`);
  }
  for (const [name, why] of Object.entries(skipped)) log(`  ${`${preset.name}/${name}`.padEnd(44)} skipped: ${why}`);

  const origin =
    preset.source.kind === 'package' && !opts.modelFile
      ? `${preset.source.packageName}@${installedPackageVersion(preset.source.packageName) ?? 'unknown'}`
      : 'user-supplied';
  const record: PresetRecord = {
    source: { fileName: path.basename(modelPath), origin, sha256: sha256Hex(modelBytes), size: modelBytes.byteLength },
    files: records,
    skipped,
  };
  await updateManifest(root, { presets: { [preset.name]: record } }, toolkit);
  return { preset: preset.name, record, ms: performance.now() - started };
}

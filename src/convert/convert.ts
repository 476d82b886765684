// `npm run convert`: one .tflite -> every artifact of its preset, then artifacts/manifest.json.
// All bytes are produced in memory before anything is written, so a model that fails to convert (not
// TFLite, unsupported op, operands that do not fit) leaves the artifacts tree exactly as it was. The
// files are then committed by ../artifacts/commit.ts: an interrupted run (even SIGKILL) leaves the
// manifest and every file it lists intact, and the next run sweeps its temporary files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { generateAnchors } from '../anchors/ssd-anchors-calculator.js';
import { commitPresetArtifacts, sweepStale } from '../artifacts/commit.js';
import { DEFAULT_ARTIFACTS_ROOT, type PresetRecord } from '../artifacts/manifest.js';
import { buildDecodedOnnxModel, DECODED_ONNX_FILE } from '../emit/onnx/decoded.js';
import { buildOnnxModel, ONNX_OPSET } from '../emit/onnx/emit.js';
import { encodeModel } from '../emit/onnx/proto.js';
import { emitTfjs } from '../emit/tfjs/emit.js';
import { buildInt8Model, INT8_ONNX_FILE } from './int8.js';
import { emitTorch } from '../emit/torch/emit.js';
import type { Graph } from '../ir/graph.js';
import { encodeNpy } from '../npy.js';
import type { Preset } from '../presets/types.js';
import { resolvePresetModelFile } from '../tflite/model-file.js';
import { readTflite } from '../tflite/reader.js';
import { validateGraph } from '../ir/validate.js';
import { checkGraphSignature } from '../artifacts/signature.js';
import { sha256Hex } from '../util/fs.js';
import { installedPackageVersion, TOOLKIT_NAME, TOOLKIT_VERSION } from '../version.js';

export interface ConvertOptions {
  modelFile?: string;
  artifactsRoot?: string;
  /** tfjs weight storage (float16 is lossless for MediaPipe's float16 models). */
  tfjsWeightDtype?: 'float16' | 'float32';
  /** Also write model_int8.onnx (./int8.ts): calibrated int8 QDQ, not part of the default artifacts. */
  int8?: boolean;
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
  // The same network with the anchor decode inside, for ONNX users in other languages.
  const decoded = buildDecodedOnnxModel(onnx, graph, preset, { toolkitVersion: TOOLKIT_VERSION });
  files.push({ name: DECODED_ONNX_FILE, bytes: encodeModel(decoded), detail: `${decoded.graph.node.length} nodes, outputs boxes, keypoints, scores` });
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
  // Leftovers of interrupted runs go first, whether or not this run gets as far as writing.
  await sweepStale(root);
  const modelPath = resolvePresetModelFile(preset, opts.modelFile);
  const modelBytes = new Uint8Array(await readFile(modelPath));
  const graph = readTflite(modelBytes, path.basename(modelPath));
  // A graph whose operands do not fit must not become artifacts (nor make the reference runtime allocate).
  validateGraph(graph);
  checkGraphSignature(preset, graph, modelPath);
  const { files, skipped } = buildArtifacts(graph, preset, opts);
  if (opts.int8) {
    const int8 = await buildInt8Model(graph, preset);
    const detail = `${int8.summary.convs} int8 convs, ${int8.summary.activations} quantized activations, calibrated on ${int8.calibration.join(', ')}`;
    files.push({ name: INT8_ONNX_FILE, bytes: encodeModel(int8.model), detail });
  }

  const toolkit = `${TOOLKIT_NAME} ${TOOLKIT_VERSION}`;
  const origin =
    preset.source.kind === 'package' && !opts.modelFile
      ? `${preset.source.packageName}@${installedPackageVersion(preset.source.packageName) ?? 'unknown'}`
      : 'user-supplied';
  // Written so that a kill at any moment leaves the manifest and every file it lists intact (../artifacts/commit.ts).
  log(`  writing ${files.length} files (the manifest keeps the previous ones listed until these are all in place)`);
  const record = await commitPresetArtifacts(
    root,
    preset.name,
    files,
    { source: { fileName: path.basename(modelPath), origin, sha256: sha256Hex(modelBytes), size: modelBytes.byteLength }, skipped },
    toolkit,
  );
  record.files.forEach((rec, i) => {
    const detail = files[i]!.detail;
    log(`  ${rec.path.padEnd(44)} ${String(rec.size).padStart(9)} bytes  sha256 ${rec.sha256.slice(0, 16)}${detail ? `  (${detail})` : ''}`);
  });
  for (const [name, why] of Object.entries(skipped)) log(`  ${`${preset.name}/${name}`.padEnd(44)} skipped: ${why}`);
  return { preset: preset.name, record, ms: performance.now() - started };
}

// The error catalogue (README "Error catalogue"): every ToolkitError code raised in src/ is listed there
// and is triggered by a test, here (one small in-process case per code) or in another test file named
// in COVERED_ELSEWHERE (checked to mention the code). A code added to src/ without both fails below.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as flatbuffers from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateAnchors } from '../src/anchors/ssd-anchors-calculator.js';
import { DEFAULT_ARTIFACTS_ROOT, readManifest } from '../src/artifacts/manifest.js';
import type { ModelSource } from '../src/backends/backend.js';
import { getBackendFactory } from '../src/backends/index.js';
import { createOrtBackend, type OrtModule } from '../src/backends/onnxruntime-common.js';
import { findTorchPython } from '../src/backends/torch.js';
import { sha256HexBrowser } from '../src/browser/artifacts.js';
import { tfliteBrowserBackend } from '../src/browser/backends/tflite.js';
import { browserPixels } from '../src/browser/pixels.js';
import { requireWasmPath, type BrowserLoadContext } from '../src/browser/backends/types.js';
import { createDetector, type Detector } from '../src/detect/detector.js';
import { facesFromDetections } from '../src/detect/face.js';
import { loadInputImage } from '../src/detect/input.js';
import { computeLetterbox } from '../src/detect/letterbox.js';
import { checkOutputDir, planOutputs } from '../src/detect/output-paths.js';
import { buildOnnxModelFor } from '../src/emit/onnx/emit.js';
import { emitTfjs } from '../src/emit/tfjs/emit.js';
import { tfjsFileHandler, toModelArtifacts } from '../src/emit/tfjs/io.js';
import { torchStateDict } from '../src/emit/torch/emit.js';
import { ToolkitError } from '../src/errors.js';
import {
  Buffer as FbBuffer,
  BuiltinOperator,
  Model,
  Operator,
  OperatorCode,
  SparsityParameters,
  SubGraph,
  Tensor as FbTensor,
  TensorType,
} from '../src/generated/tflite/tflite_generated.js';
import { decodeRgb } from '../src/image/pixels.js';
import { toModelBatch } from '../src/image/normalize.js';
import type { Graph } from '../src/ir/graph.js';
import { detectorOutputs } from '../src/ir/graph.js';
import { validateGraph } from '../src/ir/validate.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset, PRESETS } from '../src/presets/index.js';
import { expectRank } from '../src/reference/tensor.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { loadTfliteFile, readTflite } from '../src/tflite/reader.js';
import { writeTflite } from '../src/tflite/writer.js';
import { loadTfjsModelsFace } from '../src/verify/inputs.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');

// ---- code extraction (the same rule the catalogue was built with) ----

/** UPPER_SNAKE string literals in src/ that are not error codes: TFLite op and activation names, tensorflow dtypes, tfjs env flags, readRegularFile's failure kinds (mapped to INPUT_* codes). */
const NOT_CODES = new Set([
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'MAX_POOL_2D', 'RESIZE_BILINEAR', 'RELU_N1_TO_1', 'SPARSE_CSR',
  'DT_FLOAT', 'DT_INT32',
  'WASM_HAS_MULTITHREAD_SUPPORT', 'WASM_HAS_SIMD_SUPPORT', 'WEBGL_RENDER_FLOAT32_ENABLED', 'WEBGL_VERSION',
  'NOT_FOUND', 'NOT_A_FILE', 'TOO_LARGE',
]);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Comments out: a code named only in a comment is not raised. `//` counts only at a line start or after a space (not in URLs). */
const stripComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');

/** Every error code in src/ (string literals in UPPER_SNAKE form, minus NOT_CODES) and the files raising it. */
function codesInSource(): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  for (const file of tsFiles(SRC)) {
    for (const m of stripComments(readFileSync(file, 'utf8')).matchAll(/['"`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"`]/g)) {
      if (NOT_CODES.has(m[1]!)) continue;
      const files = codes.get(m[1]!) ?? [];
      const rel = path.relative(ROOT, file);
      if (!files.includes(rel)) files.push(rel);
      codes.set(m[1]!, files);
    }
  }
  return codes;
}

/** Codes with a row in README.md's "Error catalogue" section (first column `CODE`). */
function codesInReadme(): Set<string> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Error catalogue');
  expect(start, 'README.md has no "## Error catalogue" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return new Set([...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

/** Codes whose triggering test lives in another file (that file must contain the code as a string literal). */
const COVERED_ELSEWHERE: Record<string, string> = {
  ARTIFACT_CHECKSUM: 'test/artifacts.test.ts',
  ARTIFACT_MISSING: 'test/torch-backend.test.ts',
  ARTIFACT_PATH: 'test/hostile-artifacts-manifest.test.ts',
  ARTIFACT_SHAPE_MISMATCH: 'test/hostile-artifacts-manifest.test.ts',
  ARTIFACT_UNLISTED: 'test/hostile-artifacts-manifest.test.ts',
  BACKEND_NOT_INSTALLED: 'test/package.test.ts',
  BATCH_EMPTY: 'test/detect-core.test.ts',
  BATCH_SHAPE: 'test/backend-batch.test.ts',
  DETECTOR_DISPOSED: 'test/detect-dispose.test.ts',
  GRAPH_SHAPE: 'test/hostile-artifacts-graph.test.ts',
  GRAPH_TOO_LARGE: 'test/hostile-artifacts-graph.test.ts',
  IMAGE_CHANNELS: 'test/detect-input.test.ts',
  IMAGE_EMPTY: 'test/detect-input.test.ts',
  IMAGE_INPUT_TYPE: 'test/browser-unit.test.ts',
  IMAGE_NAN: 'test/detect-input.test.ts',
  IMAGE_ORIENTATION: 'test/hostile-input.test.ts',
  IMAGE_RANGE: 'test/detect-input.test.ts',
  IMAGE_RAW_LENGTH: 'test/detect-input.test.ts',
  IMAGE_RAW_TYPE: 'test/browser-unit.test.ts',
  IMAGE_SIZE: 'test/detect-core.test.ts',
  INPUT_FORMAT_UNSUPPORTED: 'test/hostile-input.test.ts',
  INPUT_NOT_A_FILE: 'test/hostile-input.test.ts',
  INPUT_NOT_FOUND: 'test/hostile-input.test.ts',
  INPUT_TOO_LARGE: 'test/hostile-input.test.ts',
  INVALID_OPTION: 'test/detect-core.test.ts',
  MANIFEST_INVALID: 'test/hostile-artifacts-manifest.test.ts',
  MANIFEST_PATH: 'test/hostile-artifacts-manifest.test.ts',
  ONNX_QUANTIZE: 'test/int8.test.ts',
  MODEL_FILE_NOT_FOUND: 'test/cli-convert.test.ts',
  NO_TORCH_ARCHITECTURE: 'test/verify-report.test.ts',
  NPY_BAD_HEADER: 'test/npy.test.ts',
  NPY_BAD_MAGIC: 'test/npy.test.ts',
  NPY_BAD_SHAPE: 'test/npy.test.ts',
  NPY_FORTRAN_ORDER: 'test/npy.test.ts',
  NPY_SIZE_MISMATCH: 'test/npy.test.ts',
  NPY_TRUNCATED: 'test/npy.test.ts',
  NPY_UNSUPPORTED_DTYPE: 'test/npy.test.ts',
  NPY_UNSUPPORTED_VERSION: 'test/npy.test.ts',
  OUTPUT_EXISTS: 'test/hostile-output.test.ts',
  PRESET_NOT_CONVERTED: 'test/artifacts.test.ts',
  PTH_UNSAFE: 'test/hostile-pth.test.ts',
  REFERENCE_TOO_LARGE: 'test/hostile-artifacts-graph.test.ts',
  SOURCE_MISMATCH: 'test/browser-unit.test.ts',
  TFLITE_BAD_IDENTIFIER: 'test/tflite-reader.test.ts',
  TFLITE_BUFFER_INDEX: 'test/tflite-reader.test.ts',
  TFLITE_DATA_SIZE: 'test/tflite-reader.test.ts',
  TFLITE_OPTIONS: 'test/tflite-reader.test.ts',
  TFLITE_OUT_OF_BOUNDS: 'test/tflite-reader.test.ts',
  TFLITE_SHAPE: 'test/tflite-reader.test.ts',
  TFLITE_SPARSITY: 'test/tflite-reader.test.ts',
  TFLITE_SUBGRAPHS: 'test/tflite-reader.test.ts',
  TFLITE_TOO_LARGE: 'test/tflite-reader.test.ts',
  TORCH_LOAD_FAILED: 'test/torch-backend.test.ts',
  UNKNOWN_BACKEND: 'test/backend-batch.test.ts',
  WORKER_DIED: 'test/detect-many-worker-death.test.ts',
};

/**
 * Codes no test triggers yet, each with the reason. Kept short and explicit so the gap is visible; a new
 * code cannot be parked here silently (the completeness test prints this list).
 */
const NOT_YET_TRIGGERED: Record<string, string> = {
  ORT_WEBGL_SYMBOLIC_DIM: 'browser only: onnxruntime-web WebGL EP on a GPU-backed Chromium',
  TFLITE_INVALID: 'defensive: bytes that pass the bounds verifier but fail the flatbuffers accessors',
  WORKER_NOT_FOUND: 'an installed package without dist/detect/detect-worker.js (and no source beside it): a broken install',
};

// ---- shared fixtures: the packaged short/full range graphs, read once ----

let tmp: string;
let shortBytes: Uint8Array;
let shortGraph: Graph;
let fullGraph: Graph;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'error-catalogue-'));
  const shortFile = resolvePresetModelFile(PRESETS.short_range);
  shortBytes = new Uint8Array(readFileSync(shortFile));
  shortGraph = readTflite(shortBytes, path.basename(shortFile));
  fullGraph = await loadTfliteFile(resolvePresetModelFile(PRESETS.full_range));
});

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Run `fn`, expect a ToolkitError with `code` whose message contains every `names` entry. */
async function expectCode(code: string, fn: () => unknown, names: readonly (string | RegExp)[], errorClass: Function = ToolkitError): Promise<void> {
  const err = await caught(fn);
  expect(err, `${code}: nothing thrown`).toBeInstanceOf(errorClass);
  const e = err as ToolkitError;
  expect(e.code, e.message).toBe(code);
  for (const n of names) expect(e.message).toMatch(n);
}

/** A copy of `bytes` with an int32 written at `pos`. */
function patched(bytes: Uint8Array, pos: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setInt32(pos, value, true);
  return out;
}

/** Flatbuffer positions inside short_range.tflite: operator fields and input vectors. */
function opLayout(bytes: Uint8Array) {
  const bb = new flatbuffers.ByteBuffer(bytes);
  const sg = Model.getRootAsModel(bb).subgraphs(0)!;
  const field = (pos: number, id: number): number => {
    const off = bb.__offset(pos, 4 + 2 * id);
    if (!off) throw new Error(`field ${id} absent`);
    return pos + off;
  };
  return {
    sg,
    /** Index of the first op whose opcode_index field is stored (non-zero). */
    opWithOpcodeField: (): number => [...Array(sg.operatorsLength()).keys()].find((i) => bb.__offset(sg.operators(i)!.bb_pos, 4) !== 0)!,
    opcodeIndexPos: (op: number) => field(sg.operators(op)!.bb_pos, 0),
    inputPos: (op: number, k: number) => bb.__vector(field(sg.operators(op)!.bb_pos, 1)) + 4 * k,
    outputsLengthPos: (op: number) => bb.__vector(field(sg.operators(op)!.bb_pos, 2)) - 4,
  };
}

/** A one-subgraph .tflite from tensors [shape, type, buffer index, sparse?], buffers (data or an external offset) and ops. */
function tinyModel(parts: {
  tensors: [number[], TensorType, number, boolean?][];
  buffers: ({ data: number[] } | { offset: bigint; size: bigint })[];
  ops?: [BuiltinOperator, number[], number[]][];
  inputs?: number[];
  outputs?: number[];
}): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const tensors = parts.tensors.map(([shape, type, buffer, sparse], i) => {
    const name = b.createString(`t${i}`);
    const sv = FbTensor.createShapeVector(b, shape);
    const sp = sparse
      ? SparsityParameters.createSparsityParameters(b, SparsityParameters.createTraversalOrderVector(b, [0]), 0, SparsityParameters.createDimMetadataVector(b, []))
      : 0;
    FbTensor.startTensor(b);
    FbTensor.addShape(b, sv);
    FbTensor.addType(b, type);
    FbTensor.addBuffer(b, buffer);
    FbTensor.addName(b, name);
    if (sp) FbTensor.addSparsity(b, sp);
    return FbTensor.endTensor(b);
  });
  const codes = [...new Set((parts.ops ?? []).map((o) => o[0]))];
  const ops = (parts.ops ?? []).map(([code, inputs, outputs]) =>
    Operator.createOperator(b, codes.indexOf(code), Operator.createInputsVector(b, inputs), Operator.createOutputsVector(b, outputs), 0, 0, 0, 0, 0, 0),
  );
  const sg = SubGraph.createSubGraph(b, SubGraph.createTensorsVector(b, tensors), SubGraph.createInputsVector(b, parts.inputs ?? []), SubGraph.createOutputsVector(b, parts.outputs ?? []), SubGraph.createOperatorsVector(b, ops), 0);
  const buffers = [
    FbBuffer.createBuffer(b, 0, 0n, 0n),
    ...parts.buffers.map((x) => ('data' in x ? FbBuffer.createBuffer(b, FbBuffer.createDataVector(b, x.data), 0n, 0n) : FbBuffer.createBuffer(b, 0, x.offset, x.size))),
  ];
  const opcodes = codes.map((c) => OperatorCode.createOperatorCode(b, c, 0, 1, c));
  const root = Model.createModel(b, 3, Model.createOperatorCodesVector(b, opcodes), Model.createSubgraphsVector(b, [sg]), 0, Model.createBuffersVector(b, buffers), 0, 0);
  b.finish(root, 'TFL3');
  return b.asUint8Array().slice();
}

/** onnxruntime-node with its session patched: how a model with other names or outputs looks to the backend. */
async function patchedOrt(patch: (session: Record<string, unknown>) => void): Promise<OrtModule> {
  const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  return {
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model, options) {
        const real = await ort.InferenceSession.create(model, options);
        const s = Object.create(real) as Record<string, unknown>;
        patch(s);
        return s as never;
      },
    },
  };
}

const ortBackend = async (ort: OrtModule, source: ModelSource) =>
  createOrtBackend({ name: 'onnxruntime-node', version: 'test', ort, source, sessionOptions: { executionProviders: ['cpu'] }, notes: [] });

const shortBatch = (n = 1) => ({ data: new Float32Array(n * 128 * 128 * 3), shape: [n, 128, 128, 3] as const });

const cloneGraph = (g: Graph, change: (g: { -readonly [K in keyof Graph]: Graph[K] }) => void): Graph => {
  const c = { ...g, tensors: g.tensors.map((t) => ({ ...t })), ops: g.ops.map((o) => ({ ...o })) } as { -readonly [K in keyof Graph]: Graph[K] };
  change(c);
  return c;
};

let onnxSource: ModelSource;
let detector: Detector | undefined;
afterAll(async () => {
  await detector?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** Why the torch backend cannot be made unavailable here (an interpreter with torch is found), or undefined. */
async function torchFound(): Promise<string | undefined> {
  const py = await findTorchPython();
  return 'reason' in py ? undefined : `${py.executable} imports torch ${py.torchVersion}, so the torch backend is available`;
}

// ---- one case per code ----

interface Case {
  readonly code: string;
  /** Why the case cannot run here (checked when it runs; the test is then skipped), or undefined. */
  readonly skip?: () => Promise<string | undefined>;
  readonly run: () => Promise<void>;
}

const CASES: Case[] = [
  // TFLite reader and model files
  { code: 'TFLITE_TOO_SMALL', run: () => expectCode('TFLITE_TOO_SMALL', () => readTflite(new Uint8Array(8), 'tiny.tflite'), ['tiny.tflite', '8 bytes']) },
  {
    code: 'TFLITE_TENSOR_INDEX',
    run: () => expectCode('TFLITE_TENSOR_INDEX', () => readTflite(patched(shortBytes, opLayout(shortBytes).inputPos(0, 0), 99999), 'bad.tflite'), ['bad.tflite', 'operator #0', '99999']),
  },
  {
    code: 'TFLITE_OPCODE_INDEX',
    run: async () => {
      const l = opLayout(shortBytes);
      const op = l.opWithOpcodeField();
      await expectCode('TFLITE_OPCODE_INDEX', () => readTflite(patched(shortBytes, l.opcodeIndexPos(op), 250), 'bad.tflite'), ['bad.tflite', `operator #${op}`, '250']);
    },
  },
  {
    code: 'TFLITE_OPERATOR',
    run: () => expectCode('TFLITE_OPERATOR', () => readTflite(patched(shortBytes, opLayout(shortBytes).outputsLengthPos(0), 0), 'bad.tflite'), ['bad.tflite', '0 outputs, expected 1']),
  },
  {
    code: 'TFLITE_OPERAND',
    run: async () => {
      // PAD's paddings must be a constant int32 tensor: point them at the float image input instead.
      const model = Model.getRootAsModel(new flatbuffers.ByteBuffer(shortBytes));
      const sg = model.subgraphs(0)!;
      const op = [...Array(sg.operatorsLength()).keys()].find((i) => model.operatorCodes(sg.operators(i)!.opcodeIndex())!.deprecatedBuiltinCode() === 34)!;
      const l = opLayout(shortBytes);
      await expectCode('TFLITE_OPERAND', () => readTflite(patched(shortBytes, l.inputPos(op, 1), sg.inputs(0)!), 'bad.tflite'), ['bad.tflite', `operator #${op} PAD`, 'constant int32']);
    },
  },
  {
    code: 'TFLITE_DTYPE',
    run: async () => {
      // The first tensor that stores its element type (non-float32): an unknown type value.
      const bb = new flatbuffers.ByteBuffer(shortBytes);
      const sg = Model.getRootAsModel(bb).subgraphs(0)!;
      const t = [...Array(sg.tensorsLength()).keys()].find((i) => bb.__offset(sg.tensors(i)!.bb_pos, 6) !== 0)!;
      const out = shortBytes.slice();
      out[sg.tensors(t)!.bb_pos + bb.__offset(sg.tensors(t)!.bb_pos, 6)] = 100;
      await expectCode('TFLITE_DTYPE', () => readTflite(out, 'bad.tflite'), ['bad.tflite', `tensor #${t}`, '100']);
    },
  },
  {
    code: 'TFLITE_EXTERNAL_BUFFER',
    run: () =>
      expectCode('TFLITE_EXTERNAL_BUFFER', () => readTflite(tinyModel({ tensors: [[[4], TensorType.FLOAT32, 1]], buffers: [{ offset: 4096n, size: 16n }] }), 'big.tflite'), ['big.tflite', "tensor 't0'", 'outside the flatbuffer']),
  },
  {
    code: 'TFLITE_DATA',
    run: () =>
      expectCode('TFLITE_DATA', () => readTflite(tinyModel({ tensors: [[[4], TensorType.FLOAT32, 1, true]], buffers: [{ data: [1, 2, 3] }] }), 'sparse.tflite'), ['sparse.tflite', "tensor #0 't0'", '3 bytes']),
  },
  {
    code: 'TFLITE_QUANTIZATION',
    run: () =>
      expectCode(
        'TFLITE_QUANTIZATION',
        () =>
          readTflite(
            tinyModel({ tensors: [[[2], TensorType.INT8, 1], [[2], TensorType.FLOAT32, 0]], buffers: [{ data: [1, 2] }], ops: [[BuiltinOperator.DEQUANTIZE, [0], [1]]] }),
            'quant.tflite',
          ),
        ['quant.tflite', 'DEQUANTIZE', "input 't0'"],
      ),
  },
  {
    code: 'UNSUPPORTED_OP',
    run: async () => {
      // Turn CONV_2D's operator code into LOGISTIC (the reader takes max(builtin_code, deprecated_builtin_code)).
      const bb = new flatbuffers.ByteBuffer(shortBytes);
      const model = Model.getRootAsModel(bb);
      const c = [...Array(model.operatorCodesLength()).keys()].find((i) => model.operatorCodes(i)!.deprecatedBuiltinCode() === 3)!;
      const out = shortBytes.slice();
      out[model.operatorCodes(c)!.bb_pos + bb.__offset(model.operatorCodes(c)!.bb_pos, 4)] = 14;
      await expectCode('UNSUPPORTED_OP', () => readTflite(out, 'bad.tflite'), ['bad.tflite', 'LOGISTIC', 'not supported']);
    },
  },
  {
    code: 'TFLITE_WRITE',
    run: () =>
      expectCode('TFLITE_WRITE', () => writeTflite(cloneGraph(shortGraph, (g) => ((g.tensors[g.inputs[0]!] as { dtype: string }).dtype = 'int32'))), [shortGraph.source.fileName, 'cannot write as TFLite']),
  },
  { code: 'FILE_NOT_READABLE', run: () => expectCode('FILE_NOT_READABLE', () => loadTfliteFile(path.join(tmp, 'absent.tflite')), ['absent.tflite']) },
  { code: 'MODEL_FILE_REQUIRED', run: () => expectCode('MODEL_FILE_REQUIRED', () => resolvePresetModelFile(PRESETS.front), ["preset 'front'", '--model-file']) },
  { code: 'UNKNOWN_PRESET', run: () => expectCode('UNKNOWN_PRESET', () => getPreset('middle_range' as never), ["'middle_range'", 'short_range']) },

  // Graph IR and reference runtime
  {
    code: 'GRAPH_IO',
    run: () => expectCode('GRAPH_IO', () => detectorOutputs(cloneGraph(shortGraph, (g) => (g.outputs = g.outputs.slice(0, 1)))), [shortGraph.source.fileName, 'expected two outputs']),
  },
  { code: 'GRAPH_TENSOR', run: () => expectCode('GRAPH_TENSOR', () => validateGraph(cloneGraph(shortGraph, (g) => (g.inputs = [99999]))), ['tensor #99999', 'does not exist']) },
  {
    code: 'REFERENCE_SHAPE',
    run: () => expectCode('REFERENCE_SHAPE', () => expectRank({ shape: [2, 2], data: new Float64Array(4) } as never, 4, 'CONV_2D input'), ['CONV_2D input', 'rank 4', '[2,2]']),
  },

  // Convert, artifacts, manifest
  { code: 'MANIFEST_MISSING', run: () => expectCode('MANIFEST_MISSING', () => readManifest(tmp), [path.join(tmp, 'manifest.json'), 'npm run convert']) },
  {
    code: 'ONNX_EMIT',
    run: () =>
      expectCode(
        'ONNX_EMIT',
        () => buildOnnxModelFor(cloneGraph(shortGraph, (g) => ((g.tensors[g.inputs[0]!] as unknown as { shape: number[] }).shape = [1, 128, 384])), { graphName: 'g', docString: '', producerVersion: '0', outputs: [], metadata: [] }),
        [shortGraph.source.fileName, 'expected NHWC'],
      ),
  },
  {
    code: 'TFJS_EMIT',
    run: () =>
      expectCode(
        'TFJS_EMIT',
        () => emitTfjs(cloneGraph(shortGraph, (g) => ((g.ops[0] as unknown as { inputs: number[] }).inputs = [99999, ...g.ops[0]!.inputs.slice(1)])), PRESETS.short_range, { weightDtype: 'float32' } as never),
        ['tensor #99999'],
      ),
  },
  { code: 'TFJS_MODEL_JSON', run: () => expectCode('TFJS_MODEL_JSON', () => toModelArtifacts({ format: 'layers-model' }, new Uint8Array(0), 'm/model.json'), ['m/model.json', 'graph-model']) },
  {
    code: 'TFJS_WEIGHTS_SIZE',
    run: () =>
      expectCode(
        'TFJS_WEIGHTS_SIZE',
        () => toModelArtifacts({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }] }, new Uint8Array(4), 'm/model.json'),
        ['m/model.json', '4 bytes', '8'],
      ),
  },
  { code: 'TFJS_MISSING', run: () => expectCode('TFJS_MISSING', () => tfjsFileHandler(tmp).load!(), [path.join(tmp, 'model.json'), 'npm run convert']) },
  { code: 'TORCH_LAYOUT_MISMATCH', run: () => expectCode('TORCH_LAYOUT_MISMATCH', () => torchStateDict(fullGraph, PRESETS.front), [fullGraph.source.fileName, "'", 'PyTorch layout']) },
  { code: 'ANCHOR_OPTIONS', run: () => expectCode('ANCHOR_OPTIONS', () => generateAnchors({ ...PRESETS.short_range.anchors, numLayers: 0 }), ['numLayers', 'got 0']) },

  // Backends
  {
    code: 'BACKEND_LOAD_FAILED',
    run: async () => {
      const broken = { ...onnxSource, overrides: { ...onnxSource.overrides, onnx: new Uint8Array([1, 2, 3]) } } as ModelSource;
      const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
      await expectCode('BACKEND_LOAD_FAILED', () => ortBackend(ort, broken), ['onnxruntime-node could not load the model']);
    },
  },
  {
    code: 'BACKEND_RUN_FAILED',
    run: async () => {
      const ort = await patchedOrt((s) => (s.run = () => Promise.reject(new Error('out of memory'))));
      const backend = await ortBackend(ort, onnxSource);
      await expectCode('BACKEND_RUN_FAILED', () => backend.run(shortBatch()), ['model.onnx', 'batch [1,128,128,3]', 'out of memory']);
      await backend.dispose();
    },
  },
  {
    code: 'BACKEND_DISPOSED',
    run: async () => {
      const backend = await (await getBackendFactory('onnxruntime-node')).load(onnxSource);
      await backend.dispose();
      await expectCode('BACKEND_DISPOSED', () => backend.run(shortBatch()), ['model.onnx', 'after dispose()']);
    },
  },
  {
    code: 'ONNX_SIGNATURE',
    run: async () => {
      const ort = await patchedOrt((s) => Object.defineProperty(s, 'inputNames', { value: ['image'] }));
      await expectCode('ONNX_SIGNATURE', () => ortBackend(ort, onnxSource), ['model.onnx', '[image]', '[input]']);
    },
  },
  {
    code: 'ONNX_OUTPUT_MISSING',
    run: async () => {
      const ort = await patchedOrt((s) => {
        const real = s.run as (f: unknown) => Promise<Record<string, unknown>>;
        s.run = async function (this: unknown, feeds: unknown) {
          const { regressors } = await real.call(this, feeds);
          return { regressors };
        };
      });
      const backend = await ortBackend(ort, onnxSource);
      await expectCode('ONNX_OUTPUT_MISSING', () => backend.run(shortBatch()), ['model.onnx', "'classificators'"]);
      await backend.dispose();
    },
  },
  {
    code: 'ONNX_OUTPUT_SHAPE',
    run: async () => {
      const ort = await patchedOrt((s) => {
        const real = s.run as (f: unknown) => Promise<Record<string, { dims: number[]; data: unknown }>>;
        s.run = async function (this: unknown, feeds: unknown) {
          const out = await real.call(this, feeds);
          return { ...out, regressors: { ...out.regressors!, type: 'float32', dims: [1, 896] } };
        };
      });
      const backend = await ortBackend(ort, onnxSource);
      await expectCode('ONNX_OUTPUT_SHAPE', () => backend.run(shortBatch()), ['model.onnx', "'regressors'", '[1,896]']);
      await backend.dispose();
    },
  },
  {
    code: 'TORCH_UNAVAILABLE',
    skip: torchFound,
    run: () => expectCode('TORCH_UNAVAILABLE', async () => {
        // Any 128x128 model stands in for the user's front model: the interpreter check comes first.
        const source = await loadModelSource(PRESETS.front, { modelFile: resolvePresetModelFile(PRESETS.short_range), verifyArtifacts: false });
        return (await getBackendFactory('torch')).load(source);
      }, ['torch']),
  },
  {
    code: 'BACKEND_UNAVAILABLE',
    run: async () => {
      // A backend factory (DetectorOptions.backendFactory) that reports it cannot run here.
      const ort = await getBackendFactory('onnxruntime-node');
      const backendFactory = { ...ort, availability: async () => ({ available: false, reason: 'no GPU adapter' }) };
      await expectCode('BACKEND_UNAVAILABLE', () => createDetector({ preset: 'short_range', backendFactory }), ['backend onnxruntime-node is unavailable', 'no GPU adapter']);
    },
  },

  {
    code: 'TFLITE_OUTPUT_MISMATCH',
    run: async () => {
      // The runtime's outputs are [1,896,16] and [1,896,1]; an IR whose regressors say [1,896,18] finds no match.
      const reg = detectorOutputs(shortGraph).regressors.index;
      const graph = cloneGraph(shortGraph, (g) => ((g.tensors[reg] as unknown as { shape: number[] }).shape = [1, 896, 18]));
      const backend = await getBackendFactory('tflite');
      await expectCode('TFLITE_OUTPUT_MISMATCH', () => backend.load({ ...onnxSource, graph }), ['face_detection_short_range.tflite', '[1,896,18]', 'no output matching']);
    },
  },
  {
    code: 'TFLITE_INPUT_MISMATCH',
    run: async () => {
      // A valid TFLite model whose input is int32 (x + x): the runtime loads it, the backend refuses it.
      const bytes = tinyModel({
        tensors: [[[1, 2, 2, 1], TensorType.INT32, 0], [[1, 2, 2, 1], TensorType.INT32, 0]],
        buffers: [],
        ops: [[BuiltinOperator.ADD, [0, 0], [1]]],
        inputs: [0],
        outputs: [1],
      });
      const backend = await getBackendFactory('tflite');
      await expectCode('TFLITE_INPUT_MISMATCH', () => backend.load({ ...onnxSource, tfliteBytes: bytes }), ['expected one float32 input', 'int32']);
    },
  },
  {
    code: 'ARTIFACT_INVALID',
    run: async () => {
      // A private artifacts root whose tfjs/model.json is not JSON but is re-signed in the manifest.
      const root = path.join(tmp, 'artifacts');
      for (const entry of ['manifest.json', 'short_range']) cpSync(path.join(DEFAULT_ARTIFACTS_ROOT, entry), path.join(root, entry), { recursive: true });
      const rel = 'short_range/tfjs/model.json';
      const broken = Buffer.from('{"format": "graph-model",');
      writeFileSync(path.join(root, rel), broken);
      const manifest = JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as { presets: Record<string, { files: { path: string; sha256: string; size: number }[] }> };
      for (const f of manifest.presets.short_range!.files) {
        if (f.path === rel) Object.assign(f, { sha256: createHash('sha256').update(broken).digest('hex'), size: broken.byteLength });
      }
      writeFileSync(path.join(root, 'manifest.json'), JSON.stringify(manifest, null, 2));
      const source = await loadModelSource(PRESETS.short_range, { artifactsRoot: root });
      const backend = await getBackendFactory('tfjs-cpu');
      await expectCode('ARTIFACT_INVALID', () => backend.load(source), [path.join(root, rel), 'not valid JSON']);
    },
  },

  // Inputs
  {
    code: 'INPUT_UNREADABLE',
    run: async () => {
      // A symlink loop: stat fails with ELOOP (not ENOENT), even for root.
      const loop = path.join(tmp, 'loop.png');
      symlinkSync(loop, loop);
      await expectCode('INPUT_UNREADABLE', () => loadInputImage(loop), [loop, 'ELOOP']);
    },
  },
  {
    code: 'IMAGE_DECODE',
    run: () => expectCode('IMAGE_DECODE', () => decodeRgb(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2, 3]), 'cut.png'), ['cut.png', 'cannot decode']),
  },
  {
    code: 'IMAGE_INPUT',
    run: async () => {
      detector ??= await createDetector({ preset: 'short_range', backend: 'reference' });
      // An input whose reading throws something that is not an Error: the entry still gets a typed error.
      const odd = {
        data: new Uint8Array(3),
        width: 1,
        height: 1,
        get channels(): number {
          throw 'bad channels getter';
        },
      };
      const [entry] = await detector.detectBatch([odd as never]);
      expect(entry!.ok).toBe(false);
      await expectCode('IMAGE_INPUT', () => {
        if (!entry!.ok) throw entry!.error;
      }, ['bad channels getter']);
    },
  },
  {
    code: 'BATCH_SIZE_MISMATCH',
    run: () =>
      expectCode(
        'BATCH_SIZE_MISMATCH',
        () => toModelBatch([{ data: new Uint8Array(12), width: 2, height: 2 }, { data: new Uint8Array(3), width: 1, height: 1 }]),
        ['batch image 1 is 1x1', 'expected 2x2x3'],
      ),
  },

  // Outputs
  {
    code: 'OUTPUT_IS_INPUT',
    run: async () => {
      const dir = path.join(tmp, 'out-is-in');
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'a.png'), 'x');
      await expectCode('OUTPUT_IS_INPUT', () => planOutputs(dir, [path.join(dir, 'a.png')], { overwrite: true }), [path.join(dir, 'a.png'), 'input images']);
    },
  },
  {
    code: 'OUTPUT_NOT_WRITABLE',
    run: async () => {
      const file = path.join(tmp, 'plain-file');
      writeFileSync(file, 'x');
      await expectCode('OUTPUT_NOT_WRITABLE', () => checkOutputDir(file), [file, 'not a directory']);
    },
  },

  // Detector results
  {
    code: 'DECODE_SHAPE',
    run: () =>
      expectCode('DECODE_SHAPE', () => facesFromDetections({ count: 0, stride: 5, values: new Float64Array(0) }, computeLetterbox(128, 128, 128, 128)), ['17 numbers per row, got 5']),
  },

  // Verify
  { code: 'TFJS_FACE_MISSING', run: () => expectCode('TFJS_FACE_MISSING', () => loadTfjsModelsFace(tmp), [path.join(tmp, 'dist', 'test_util.js')]) },
  {
    code: 'TFJS_FACE_FORMAT',
    run: async () => {
      const dir = path.join(tmp, 'face-pkg');
      mkdirSync(path.join(dir, 'dist'), { recursive: true });
      writeFileSync(path.join(dir, 'dist', 'test_util.js'), 'export const stubbedImageVals = [1, 2, 3];');
      await expectCode('TFJS_FACE_FORMAT', () => loadTfjsModelsFace(dir), [path.join(dir, 'dist', 'test_util.js'), '3 values, expected 49152']);
    },
  },
  // Browser pixels, with the browser globals they test for simulated (the real thing needs Chromium with two origins / no canvas).
  {
    code: 'IMAGE_NOT_READY',
    run: async () => {
      class HTMLImageElement {
        complete = false;
      }
      vi.stubGlobal('HTMLImageElement', HTMLImageElement);
      try {
        await expectCode('IMAGE_NOT_READY', () => browserPixels(new HTMLImageElement() as never, 'https://site/photo.jpg'), ['https://site/photo.jpg', 'not finished loading']);
      } finally {
        vi.unstubAllGlobals();
      }
    },
  },
  {
    code: 'IMAGE_CANVAS',
    run: async () => {
      class ImageBitmap {
        width = 2;
        height = 2;
      }
      class OffscreenCanvas {
        getContext = () => null;
      }
      vi.stubGlobal('ImageBitmap', ImageBitmap);
      vi.stubGlobal('OffscreenCanvas', OffscreenCanvas);
      try {
        await expectCode('IMAGE_CANVAS', () => browserPixels(new ImageBitmap() as never, '<ImageBitmap>'), ['<ImageBitmap>', '2D canvas context']);
      } finally {
        vi.unstubAllGlobals();
      }
    },
  },
  {
    code: 'IMAGE_TAINTED',
    run: async () => {
      class ImageBitmap {
        width = 2;
        height = 2;
      }
      class OffscreenCanvas {
        width = 2;
        height = 2;
        getContext = () => ({
          clearRect() {},
          drawImage() {},
          getImageData() {
            throw new Error('The canvas has been tainted by cross-origin data.');
          },
        });
      }
      vi.stubGlobal('ImageBitmap', ImageBitmap);
      vi.stubGlobal('OffscreenCanvas', OffscreenCanvas);
      try {
        await expectCode('IMAGE_TAINTED', () => browserPixels(new ImageBitmap() as never, 'https://other/face.png'), ['https://other/face.png', 'tainted', 'CORS']);
      } finally {
        vi.unstubAllGlobals();
      }
    },
  },
  // Browser (the pieces that run without a browser)
  { code: 'WASM_PATH_REQUIRED', run: () => expectCode('WASM_PATH_REQUIRED', () => requireWasmPath({}, 'tflite', 'tflite'), ['tflite', 'wasmPaths.tflite']) },
  {
    code: 'MODEL_URL_REQUIRED',
    run: () =>
      expectCode(
        'MODEL_URL_REQUIRED',
        () => tfliteBrowserBackend.load({ preset: PRESETS.short_range, artifacts: { record: { source: { fileName: 'face_detection_short_range.tflite' } } }, wasmPaths: {} } as unknown as BrowserLoadContext),
        ['modelUrl', 'face_detection_short_range.tflite'],
      ),
  },
  {
    code: 'ARTIFACT_UNVERIFIABLE',
    run: async () => {
      // No SubtleCrypto: what a page served over plain http (not localhost) sees.
      vi.stubGlobal('crypto', {});
      try {
        await expectCode('ARTIFACT_UNVERIFIABLE', () => sha256HexBrowser(new Uint8Array(1), 'http://host/model.onnx'), ['http://host/model.onnx', 'secure context']);
      } finally {
        vi.unstubAllGlobals();
      }
    },
  },
  // These last: one unregisters tfjs's cpu backend, the others reload modules (vi.resetModules) to simulate a missing file or package.
  {
    code: 'TFJS_BACKEND_INIT',
    run: async () => {
      const tf = await import('@tensorflow/tfjs-core');
      const backend = await getBackendFactory('tfjs-cpu');
      await backend.availability();
      // What a tfjs build without a working cpu backend looks like to the factory.
      tf.removeBackend('cpu');
      await expectCode('TFJS_BACKEND_INIT', () => backend.load(onnxSource), ['tfjs-cpu', "tfjs backend 'cpu' failed to initialize"]);
    },
  },
  {
    code: 'CHROMIUM_MISSING',
    run: async () => {
      // CHROMIUM_PATH is read when the module loads: load a fresh copy with the variable set.
      vi.stubEnv('BLAZEFACE_CHROMIUM', path.join(tmp, 'no-chromium'));
      vi.resetModules();
      try {
        const { launchChromium } = await import('../src/devserver/chromium.js');
        const { ToolkitError: FreshToolkitError } = await import('../src/errors.js');
        await expectCode('CHROMIUM_MISSING', () => launchChromium(), [path.join(tmp, 'no-chromium'), 'not found'], FreshToolkitError);
      } finally {
        vi.unstubAllEnvs();
      }
    },
  },
  {
    code: 'PLAYWRIGHT_MISSING',
    run: async () => {
      // Chromium present (any existing file stands in), playwright-core not installed.
      vi.stubEnv('BLAZEFACE_CHROMIUM', process.execPath);
      vi.resetModules();
      vi.doMock('playwright-core', () => {
        throw new Error("Cannot find package 'playwright-core'");
      });
      try {
        const { launchChromium } = await import('../src/devserver/chromium.js');
        const { ToolkitError: FreshToolkitError } = await import('../src/errors.js');
        await expectCode('PLAYWRIGHT_MISSING', () => launchChromium(), ['playwright-core', 'npm install'], FreshToolkitError);
      } finally {
        vi.doUnmock('playwright-core');
        vi.unstubAllEnvs();
      }
    },
  },
  {
    code: 'ORT_WEB_WASM',
    run: async () => {
      // onnxruntime-web installed but its .wasm unreadable (a broken or pruned install).
      vi.resetModules();
      vi.doMock('node:fs/promises', async (importOriginal) => {
        const real = await importOriginal<typeof import('node:fs/promises')>();
        return { ...real, readFile: (async (p: string, ...rest: unknown[]) => (String(p).endsWith('.wasm') ? Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })) : (real.readFile as (...a: unknown[]) => unknown)(p, ...rest))) as typeof real.readFile };
      });
      try {
        const { onnxruntimeWebBackend } = await import('../src/backends/onnxruntime-web.js');
        const { ToolkitError: FreshToolkitError } = await import('../src/errors.js');
        await expectCode('ORT_WEB_WASM', () => onnxruntimeWebBackend.load(onnxSource), ['ort-wasm-simd-threaded.wasm', "onnxruntime-web's WebAssembly binary"], FreshToolkitError);
      } finally {
        vi.doUnmock('node:fs/promises');
      }
    },
  },
];

describe('error catalogue', () => {
  const codes = codesInSource();
  const own = new Set(CASES.map((c) => c.code));

  it('every code in src/ has a README row and a triggering test (here, elsewhere, or listed as not yet triggered)', () => {
    const readme = codesInReadme();
    const problems: string[] = [];
    for (const [code, files] of [...codes].sort()) {
      const where = `(raised in ${files.join(', ')})`;
      if (!readme.has(code)) problems.push(`${code} ${where}: no row in README.md "Error catalogue"`);
      if (!own.has(code) && !(code in COVERED_ELSEWHERE) && !(code in NOT_YET_TRIGGERED)) {
        problems.push(`${code} ${where}: no case in test/error-catalogue.test.ts CASES and no COVERED_ELSEWHERE entry`);
      }
    }
    for (const code of readme) if (!codes.has(code)) problems.push(`${code}: README row, but src/ never raises it (remove the row or the code is dead)`);
    for (const code of [...own, ...Object.keys(COVERED_ELSEWHERE), ...Object.keys(NOT_YET_TRIGGERED)]) {
      if (!codes.has(code)) problems.push(`${code}: listed in test/error-catalogue.test.ts but src/ never raises it`);
    }
    for (const code of own) if (code in COVERED_ELSEWHERE || code in NOT_YET_TRIGGERED) problems.push(`${code}: has a case here and is also listed elsewhere`);
    const hint = '\n(not an error code but an UPPER_SNAKE string such as an op name? add it to NOT_CODES in test/error-catalogue.test.ts)';
    expect(problems, problems.join('\n') + hint).toEqual([]);
    if (Object.keys(NOT_YET_TRIGGERED).length) console.info(`codes not triggered by any test yet:\n${Object.entries(NOT_YET_TRIGGERED).map(([c, why]) => `  ${c}: ${why}`).join('\n')}`);
  });

  it('each COVERED_ELSEWHERE file exists and asserts that code', () => {
    const missing = Object.entries(COVERED_ELSEWHERE).filter(([code, file]) => {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      return !new RegExp(`['"\`]${code}['"\`]`).test(text);
    });
    expect(missing.map(([c, f]) => `${c}: ${f} does not mention it`)).toEqual([]);
  });

  describe('triggers', () => {
    beforeAll(async () => {
      onnxSource = await loadModelSource(PRESETS.short_range);
    });
    for (const c of CASES) {
      it(c.code, async (ctx) => {
        const why = await c.skip?.();
        if (why) {
          console.info(`${c.code} skipped: ${why}`);
          ctx.skip();
        }
        await c.run();
      }, 30_000);
    }
  });
});

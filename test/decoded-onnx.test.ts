// model_decoded.onnx: the in-graph decode equals the TypeScript decode (src/detect/tensors-to-detections.ts)
// for every packaged preset and for decode options no preset uses (other output order, offsets, scales,
// no sigmoid, no clipping), valid for onnx.checker, and the verifier's check catches a broken decode.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawOutputs } from '../src/backends/backend.js';
import { DEFAULT_ARTIFACTS_ROOT } from '../src/artifacts/manifest.js';
import { buildDecodedOnnxModel, buildDecodedOnnxModelFor, DECODED_ONNX_FILE } from '../src/emit/onnx/decoded.js';
import { ONNX_OUTPUT_NAMES } from '../src/emit/onnx/emit.js';
import { decodeModel, encodeModel, OnnxDataType, type ModelProto } from '../src/emit/onnx/proto.js';
import type { Graph } from '../src/ir/graph.js';
import { loadModelSource } from '../src/model-source.js';
import { PACKAGED_PRESETS, PRESETS } from '../src/presets/index.js';
import type { Preset } from '../src/presets/types.js';
import { checkDecodedOnnx, compareDecoded, runDecodedOnnx } from '../src/verify/decoded-onnx.js';
import { loadVerifyInputs, prepareInputs } from '../src/verify/inputs.js';
import { DEFAULT_TOLERANCES } from '../src/verify/compare.js';
import { markdownReport, summaryTable } from '../src/verify/report-text.js';
import { runVerify } from '../src/verify/verify.js';
import { REPO_ROOT } from '../src/fixtures.js';
import { validateJsonSchema } from './helpers/json-schema.js';
import { checkOnnx, pythonOnnxAvailable, randomArray } from './onnx-helpers.js';

const META = { toolkitVersion: '0.0.0-test' };
const hasChecker = pythonOnnxAvailable();
if (!hasChecker) console.warn('decoded ONNX checker test skipped: needs python3-onnx (/usr/bin/python3 -c "import onnx" failed)');

const int64 = (values: number[]) => {
  const bytes = new Uint8Array(values.length * 8);
  values.forEach((v, i) => new DataView(bytes.buffer).setBigInt64(i * 8, BigInt(v), true));
  return bytes;
};

/**
 * A stand-in for the network whose raw outputs the test chooses: input [N, A, C+1] is split into
 * regressors [N, A, C] and classificators [N, A, 1], so the decode runs on arbitrary raw values.
 */
function passThrough(preset: Preset): { graph: Graph; plain: ModelProto } {
  const A = preset.decode.numBoxes;
  const C = preset.decode.numCoords;
  const tensor = (index: number, name: string, shape: number[]) => ({ index, name, shape, dtype: 'float32' as const, sourceDtype: 'float32' as const, buffer: 0 });
  const graph = {
    source: { fileName: 'pass-through.tflite', sha256: '0'.repeat(64) },
    tensors: [tensor(0, 'raw', [1, A, C + 1]), tensor(1, 'regressors', [1, A, C]), tensor(2, 'classificators', [1, A, 1])],
    inputs: [0],
    outputs: [1, 2],
    ops: [],
  } as unknown as Graph;
  const vi = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const ints = (name: string, v: number[]) => ({ name, dims: [v.length], data_type: OnnxDataType.INT64, raw_data: int64(v) });
  const plain: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'test',
    producer_version: '0',
    graph: {
      name: 'pass_through',
      node: [
        { name: 'split', op_type: 'Split', input: ['input', 'sizes'], output: [ONNX_OUTPUT_NAMES.regressors, ONNX_OUTPUT_NAMES.classificators], attribute: [{ name: 'axis', type: 2, i: 2 }] },
      ],
      initializer: [ints('sizes', [C, 1])],
      input: [vi('input', ['N', A, C + 1])],
      output: [vi(ONNX_OUTPUT_NAMES.regressors, ['N', A, C]), vi(ONNX_OUTPUT_NAMES.classificators, ['N', A, 1])],
    },
    metadata_props: [],
  };
  return { graph, plain };
}

/** Raw values that exercise everything: large logits beyond the clip, negative sizes, offsets of either sign. */
function rawValues(preset: Preset, batch: number, seed: number): { packed: Float32Array; raw: RawOutputs } {
  const A = preset.decode.numBoxes;
  const C = preset.decode.numCoords;
  const values = randomArray(batch * A * (C + 1), seed, -1, 1);
  const regressors = new Float32Array(batch * A * C);
  const classificators = new Float32Array(batch * A);
  for (let r = 0; r < batch * A; r++) {
    for (let c = 0; c < C; c++) {
      // Sizes and offsets in pixels of the model input, a few negative (MediaPipe drops those boxes).
      const v = values[r * (C + 1) + c]! * 60 + 15;
      regressors[r * C + c] = v;
      values[r * (C + 1) + c] = v;
    }
    const logit = values[r * (C + 1) + C]! * 150;
    classificators[r] = logit;
    values[r * (C + 1) + C] = logit;
  }
  return { packed: values, raw: { regressors, classificators, batch, numAnchors: A, numCoords: C } };
}

async function decodeParity(preset: Preset) {
  const { graph, plain } = passThrough(preset);
  const model = buildDecodedOnnxModel(plain, graph, preset, META);
  const { packed, raw } = rawValues(preset, 2, 7);
  const got = await runDecodedOnnx(encodeModel(model), { data: packed, shape: [2, preset.decode.numBoxes, preset.decode.numCoords + 1] as never }, preset.decode.numBoxes, preset.decode.numKeypoints);
  return compareDecoded(got, raw, preset, ['raw-0', 'raw-1'], DEFAULT_TOLERANCES);
}

const base = PRESETS.short_range;
const VARIANTS: Record<string, Preset> = {
  'x,y,w,h order off, box after keypoints, four different scales': {
    ...base,
    decode: { ...base.decode, reverseOutputOrder: false, boxCoordOffset: 12, keypointCoordOffset: 0, xScale: 100, yScale: 50, wScale: 25, hScale: 200 },
  },
  'no sigmoid (scores are the logits)': { ...base, decode: { ...base.decode, sigmoidScore: false } },
  'no clipping (score_clipping_thresh 0)': { ...base, decode: { ...base.decode, scoreClippingThresh: 0 } },
  'clipping at 2': { ...base, decode: { ...base.decode, scoreClippingThresh: 2 } },
  'two keypoints': { ...base, decode: { ...base.decode, numKeypoints: 2, numCoords: 8 } },
};

describe('model_decoded.onnx: the decode in the graph', () => {
  it.each([...PACKAGED_PRESETS])('%s: every anchor within 1e-5 of the TS decode on raw values of any sign', async (name) => {
    const r = await decodeParity(PRESETS[name]);
    expect(r.failures).toEqual([]);
    expect(r.maxCoordDiff).toBeLessThanOrEqual(1e-5);
    expect(r.maxScoreDiff).toBeLessThanOrEqual(1e-5);
    expect(r.negativeSizeAnchors).toBeGreaterThan(0); // the drop rule was exercised
  });

  it.each(Object.keys(VARIANTS))('options no preset uses: %s', async (label) => {
    const r = await decodeParity(VARIANTS[label]!);
    expect(r.failures).toEqual([]);
    expect(r.maxCoordDiff).toBeLessThanOrEqual(1e-5);
    expect(r.maxScoreDiff).toBeLessThanOrEqual(1e-5);
  });

  it('the same decode with the order flag flipped would not pass (the comparison can fail)', async () => {
    const preset = VARIANTS['x,y,w,h order off, box after keypoints, four different scales']!;
    const { graph, plain } = passThrough(preset);
    const wrong = buildDecodedOnnxModel(plain, graph, { ...preset, decode: { ...preset.decode, reverseOutputOrder: true } }, META);
    const { packed, raw } = rawValues(preset, 1, 3);
    const got = await runDecodedOnnx(encodeModel(wrong), { data: packed, shape: [1, preset.decode.numBoxes, 17] as never }, preset.decode.numBoxes, 6);
    const r = compareDecoded(got, raw, preset, ['raw-0'], DEFAULT_TOLERANCES);
    expect(r.failures.length).toBeGreaterThan(0);
  });

  it('refuses options the graph cannot express, naming the preset', () => {
    const { graph, plain } = passThrough(base);
    expect(() => buildDecodedOnnxModel(plain, graph, { ...base, decode: { ...base.decode, numBoxes: 10 } }, META)).toThrow(
      /pass-through\.tflite: cannot build model_decoded\.onnx for short_range: regressors are \[1,896,16\], the preset expects \[N,10,16\]/,
    );
    expect(() => buildDecodedOnnxModel(plain, graph, { ...base, decode: { ...base.decode, keypointCoordOffset: 8 } }, META)).toThrow(/offsets do not fit in numCoords 16/);
  });
});

describe('model_decoded.onnx: the committed artifacts', () => {
  it.each([...PACKAGED_PRESETS])('%s: outputs, metadata, and the network part identical to model.onnx', async (name) => {
    const dir = path.join(DEFAULT_ARTIFACTS_ROOT, name);
    const decoded = decodeModel(new Uint8Array(await readFile(path.join(dir, DECODED_ONNX_FILE))));
    const plain = decodeModel(new Uint8Array(await readFile(path.join(dir, 'model.onnx'))));
    const preset = PRESETS[name];
    const A = preset.decode.numBoxes;
    expect(decoded.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(decoded.graph.output.map((o) => [o.name, o.type.tensor_type.shape.dim.map((d) => ('dim_param' in d ? d.dim_param : d.dim_value))])).toEqual([
      ['boxes', ['N', A, 4]],
      ['keypoints', ['N', A, 12]],
      ['scores', ['N', A]],
    ]);
    // The plain network comes first, node for node; the decode only appends.
    expect(decoded.graph.node.slice(0, plain.graph.node.length)).toEqual(plain.graph.node);
    const ops = new Set(decoded.graph.node.slice(plain.graph.node.length).map((n) => n.op_type));
    expect([...ops].sort()).toEqual(['Add', 'Clip', 'Concat', 'Div', 'Gather', 'Mul', 'ReduceMax', 'Reshape', 'Sigmoid', 'Slice', 'Sub', 'Unsqueeze']);
    const meta = Object.fromEntries(decoded.metadata_props.map((p) => [p.key, p.value]));
    expect(meta).toMatchObject({
      preset: name,
      anchor_count: String(A),
      input_height: String(preset.inputHeight),
      input_width: String(preset.inputWidth),
      min_score: String(preset.decode.minScoreThresh),
      iou_threshold: '0.3',
    });
    expect(meta.normalization).toMatch(/^x \/ 127\.5 - 1/);
    expect(meta.boxes).toMatch(/ymin, xmin, ymax, xmax/);
    expect(meta.keypoints).toMatch(/x, y of each keypoint \(rightEye, leftEye, nose, mouth, rightEar, leftEar\)/);
    expect(meta.nms).toMatch(/^weighted/);
    // Re-emitting gives the committed bytes (convert reuses the plain model; the standalone builder agrees).
    const { readTflite } = await import('../src/tflite/reader.js');
    const { resolvePresetModelFile } = await import('../src/tflite/model-file.js');
    const file = resolvePresetModelFile(preset);
    const graph = readTflite(new Uint8Array(await readFile(file)), path.basename(file));
    const again = buildDecodedOnnxModelFor(graph, preset, { toolkitVersion: meta.toolkit_version! });
    expect(Buffer.from(encodeModel(again)).equals(await readFile(path.join(dir, DECODED_ONNX_FILE)))).toBe(true);
  });

  it.skipIf(!hasChecker).each([...PACKAGED_PRESETS])('%s: onnx.checker full_check and strict shape inference are clean (needs python3-onnx)', async (name) => {
    const r = checkOnnx(new Uint8Array(await readFile(path.join(DEFAULT_ARTIFACTS_ROOT, name, DECODED_ONNX_FILE))));
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const A = PRESETS[name].decode.numBoxes;
    expect(r.outputs).toEqual({ boxes: ['N', A, 4], keypoints: ['N', A, 12], scores: ['N', A] });
  });
});

describe("the verifier's decoded-ONNX check", () => {
  it('passes on the committed short_range artifacts and fails on a decode with x and y swapped, naming the element', async () => {
    const preset = PRESETS.short_range;
    const inputs = await loadVerifyInputs({ randomCount: 1 });
    const { batch } = await prepareInputs(inputs, preset);
    const names = inputs.map((i) => i.name);
    const source = await loadModelSource(preset);
    const ok = await checkDecodedOnnx(source, batch, names, DEFAULT_TOLERANCES);
    expect(ok.failures).toEqual([]);
    expect(ok.status).toBe('pass');
    expect(ok.maxCoordDiff).toBeLessThanOrEqual(1e-5);

    // Mutation: the final Gather puts xmin, ymin, xmax, ymax out instead of ymin, xmin, ymax, xmax.
    const { readTflite } = await import('../src/tflite/reader.js');
    const model = buildDecodedOnnxModelFor(readTflite(source.tfliteBytes, 'face_detection_short_range.tflite'), preset, META);
    const order = model.graph.initializer.find((t) => t.name === 'decode/yx_order')!;
    order.raw_data = int64([0, 1, 2, 3]);
    const bad = await checkDecodedOnnx({ ...source, overrides: { onnxDecoded: encodeModel(model) } }, batch, names, DEFAULT_TOLERANCES);
    expect(bad.status).toBe('fail');
    expect(bad.worst?.output).toBe('boxes');
    expect(bad.failures[0]).toMatch(new RegExp(`^short_range / model_decoded\\.onnx / ${names[0]!.replace('.', '\\.')} / boxes\\[0, \\d+, [0-3]\\]: \\|diff\\| \\S+ > 1e-5 \\(ts \\S+, onnx \\S+\\); \\d+ values out of tolerance$`));
  });

  it('a missing, unreadable or wrong model_decoded.onnx is an error row naming the file', async () => {
    const preset = PRESETS.short_range;
    const source = await loadModelSource(preset);
    const inputs = await loadVerifyInputs({ randomCount: 1, seedPhotos: false, tfjsFace: false });
    const { batch } = await prepareInputs(inputs, preset);
    const r = await checkDecodedOnnx({ ...source, artifactsDir: '/nonexistent/short_range' }, batch, ['random-0'], DEFAULT_TOLERANCES);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/\/nonexistent\/short_range\/model_decoded\.onnx: cannot read the decoded ONNX model \(run `npm run convert` first\)/);
    expect(r.failures).toHaveLength(1);
    const garbage = await checkDecodedOnnx({ ...source, overrides: { onnxDecoded: new TextEncoder().encode('not a model') } }, batch, ['random-0'], DEFAULT_TOLERANCES);
    expect(garbage.status).toBe('error');
    expect(garbage.reason).toMatch(/^in-memory model_decoded\.onnx: onnxruntime-node could not load the model \(/);
    // The plain model instead of the decoded one: loads, but has the wrong outputs.
    const plain = await checkDecodedOnnx({ ...source, overrides: { onnxDecoded: new Uint8Array(await readFile(path.join(source.artifactsDir, 'model.onnx'))) } }, batch, ['random-0'], DEFAULT_TOLERANCES);
    expect(plain.reason).toBe("in-memory model_decoded.onnx: output 'boxes' is missing, expected float32 [1,896,4]");
  });

  it('runVerify records it per preset (schema-valid) and a broken decode fails the run, listed in the summary', async () => {
    const preset = PRESETS.short_range;
    const { readTflite } = await import('../src/tflite/reader.js');
    const { resolvePresetModelFile } = await import('../src/tflite/model-file.js');
    const file = resolvePresetModelFile(preset);
    const model = buildDecodedOnnxModelFor(readTflite(new Uint8Array(await readFile(file)), path.basename(file)), preset, META);
    // Mutation: keypoints decoded against the anchor centres swapped (x with y).
    const anchors = model.graph.initializer.find((t) => t.name === 'decode/anchors')!;
    const view = new DataView(anchors.raw_data.buffer, anchors.raw_data.byteOffset, anchors.raw_data.byteLength);
    for (let i = 0; i < preset.decode.numBoxes; i++) {
      const x = view.getFloat32(i * 16, true);
      view.setFloat32(i * 16, view.getFloat32(i * 16 + 4, true), true);
      view.setFloat32(i * 16 + 4, x, true);
    }
    const common = { presets: ['short_range' as const], backends: [], inputs: { randomCount: 1, seedPhotos: false, tfjsFace: true }, runs: 0 };
    const good = (await runVerify(common)).report;
    expect(good.presets[0]!.decodedOnnx).toMatchObject({ status: 'pass', artifact: 'artifacts/short_range/model_decoded.onnx', failures: [] });
    expect(good.summary.pass).toBe(true);
    const schema = JSON.parse(await readFile(path.join(REPO_ROOT, 'schemas', 'parity-report.schema.json'), 'utf8')) as Record<string, unknown>;
    expect(validateJsonSchema(schema, JSON.parse(JSON.stringify(good)))).toEqual([]);
    expect(summaryTable(good)).toMatch(/short_range\s+decoded onnx\s+PASS\s+\S+ \/ \w+\[0, \d+(, \d+)?\]\s+\S+\/\S+/);
    expect(markdownReport(good)).toContain('## model_decoded.onnx against the TypeScript decode');

    const bad = (await runVerify({ ...common, overrides: { short_range: { onnxDecoded: encodeModel(model) } } })).report;
    expect(bad.presets[0]!.decodedOnnx!.status).toBe('fail');
    expect(bad.presets[0]!.pass).toBe(false);
    expect(bad.summary.pass).toBe(false);
    expect(bad.summary.failures.some((f) => /^short_range \/ model_decoded\.onnx \/ tfjs-models-face \/ keypoints\[0, \d+, \d+\]/.test(f))).toBe(true);
    expect(validateJsonSchema(schema, JSON.parse(JSON.stringify(bad)))).toEqual([]);
  });
});

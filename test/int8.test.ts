// The int8 variant (convert --int8): the quantizer's arithmetic, calibration determinism, the emitted
// model (onnx.checker, ONNX Runtime fuses it into QLinearConv), and the verifier's face-level verdict,
// which must pass a model that agrees with the reference and fail a broken quantization.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSource } from '../src/backends/backend.js';
import { convertPreset } from '../src/convert/convert.js';
import { buildInt8Model, INT8_BASE_LOWERING, INT8_ONNX_FILE } from '../src/convert/int8.js';
import { calibrateTensors, rangesByOnnxValue } from '../src/emit/onnx/calibrate.js';
import { buildOnnxModel } from '../src/emit/onnx/emit.js';
import { decodeModel, encodeModel } from '../src/emit/onnx/proto.js';
import { OnnxQuantizeError, quantizeBias, quantizeModel, quantizeWeightsPerChannel, uint8Params } from '../src/emit/onnx/quantize.js';
import { ToolkitError } from '../src/errors.js';
import { seedDir } from '../src/fixtures.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { runReference } from '../src/reference/runtime.js';
import { presetDecoder } from '../src/verify/decode.js';
import { checkInt8Onnx, judgeFaces } from '../src/verify/int8.js';
import { loadVerifyInputs, prepareInputs } from '../src/verify/inputs.js';
import { markdownReport } from '../src/verify/report-text.js';
import type { DetectionRecord } from '../src/verify/report-types.js';
import { runVerify } from '../src/verify/verify.js';
import { checkOnnx, pythonOnnxAvailable } from './onnx-helpers.js';

const preset = getPreset('short_range');
const hasSeed = seedDir() !== null;
if (!hasSeed) console.warn('int8 face-level verdict tests skipped: needs the seed photos (../shared/seed)');
const hasChecker = pythonOnnxAvailable();
if (!hasChecker) console.warn('int8 onnx.checker test skipped: needs python3-onnx (/usr/bin/python3 -c "import onnx" failed)');

describe('quantizer arithmetic', () => {
  it('uint8 parameters cover the range and 0, and map real 0 to an integer exactly', () => {
    const p = uint8Params({ min: -1, max: 3 });
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64); // round(1 / (4/255)) = round(63.75)
    expect(uint8Params({ min: 0.5, max: 2 })).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 }); // widened to include 0
    expect(uint8Params({ min: -4, max: -1 })).toEqual({ scale: Math.fround(4 / 255), zeroPoint: 255 });
    expect(uint8Params({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
    const err = (() => {
      try {
        uint8Params({ min: 1, max: Number.NaN });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OnnxQuantizeError);
    expect((err as ToolkitError).code).toBe('ONNX_QUANTIZE');
  });

  it('weights: symmetric int8 per output channel, a zero channel gets scale 1', () => {
    const w = Float32Array.of(0.5, -1, 0.25, 0, 0, 0, 2, -0.01, 1);
    const q = quantizeWeightsPerChannel(w, 3);
    expect([...q.scales]).toEqual([Math.fround(1 / 127), 1, Math.fround(2 / 127)]);
    expect([...q.data]).toEqual([64, -127, 32, 0, 0, 0, 127, -1, 64]);
    // Dequantized within half a step of every weight.
    w.forEach((v, i) => expect(Math.abs(q.data[i]! * q.scales[Math.floor(i / 3)]! - v)).toBeLessThanOrEqual(q.scales[Math.floor(i / 3)]! / 2 + 1e-9));
    expect(() => quantizeWeightsPerChannel(w, 4)).toThrow(OnnxQuantizeError);
  });

  it('bias: int32 at in_scale * w_scale per channel, rounded; out of int32 refused', () => {
    const b = quantizeBias(Float32Array.of(0.1, -0.2, 0.00031), 0.02, Float32Array.of(0.01, 0.5, 0.01));
    expect([...b.scales]).toEqual([Math.fround(0.02 * 0.01), Math.fround(0.02 * 0.5), Math.fround(0.02 * 0.01)]);
    expect([...b.data]).toEqual([500, -20, 2]); // 0.00031 / 0.0002 = 1.55 -> 2
    expect(() => quantizeBias(Float32Array.of(1e6), 1e-6, Float32Array.of(1e-6))).toThrow(/outside int32/);
    expect(() => quantizeBias(Float32Array.of(1, 2), 1, Float32Array.of(1))).toThrow(OnnxQuantizeError);
  });
});

describe('model_int8.onnx (short_range)', () => {
  let source: ModelSource;
  let int8: Awaited<ReturnType<typeof buildInt8Model>>;
  let bytes: Uint8Array;
  beforeAll(async () => {
    source = await loadModelSource(preset);
    int8 = await buildInt8Model(source.graph, preset);
    bytes = encodeModel(int8.model);
  });

  it('calibration and quantization are deterministic: same bytes twice', async () => {
    const again = encodeModel((await buildInt8Model(source.graph, preset)).model);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    const { batch } = await prepareInputs(await loadVerifyInputs({ randomCount: 1, seedPhotos: false }), preset);
    expect(calibrateTensors(source.graph, [batch], 99.99)).toEqual(calibrateTensors(source.graph, [batch], 99.99));
  });

  it('quantizes every convolution: int8 weights per channel, QDQ pairs, no float conv weight left', () => {
    expect(int8.summary.floatConvs).toEqual([]);
    const fp32 = buildOnnxModel(source.graph, preset, { toolkitVersion: 'test', lowering: INT8_BASE_LOWERING });
    expect(int8.summary.convs).toBe(fp32.graph.node.filter((n) => n.op_type === 'Conv').length);
    const m = decodeModel(bytes);
    const convs = m.graph.node.filter((n) => n.op_type === 'Conv');
    const producers = new Map(m.graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    for (const c of convs) {
      // data and weight inputs both come out of a DequantizeLinear.
      expect(producers.get(c.input[0]!)?.op_type, c.name).toBe('DequantizeLinear');
      expect(producers.get(c.input[1]!)?.op_type, c.name).toBe('DequantizeLinear');
    }
    const types = new Map(m.graph.initializer.map((t) => [t.name, t.data_type]));
    expect(m.graph.initializer.filter((t) => t.name.endsWith('/w_int8')).every((t) => t.data_type === 3)).toBe(true);
    expect(m.graph.initializer.filter((t) => t.name.endsWith('/b_int32')).every((t) => t.data_type === 6)).toBe(true);
    expect([...types.values()].filter((t) => t === 3).length).toBeGreaterThan(0);
    expect(m.metadata_props.find((p) => p.key === 'quantization')?.value).toMatch(/int8 QDQ/);
    // About a quarter of the fp32 file: weights in one byte instead of four.
    expect(bytes.byteLength).toBeLessThan(encodeModel(fp32).byteLength / 2);
  });

  it('values without a calibrated range stay float32 (and a Conv reading one keeps its float weights)', () => {
    const fp32 = buildOnnxModel(source.graph, preset, { toolkitVersion: 'test' });
    const { model, summary } = quantizeModel(fp32, new Map());
    expect(summary.activations).toBe(0);
    expect(summary.convs).toBe(0);
    expect(model.graph.node.map((n) => n.op_type)).toEqual(fp32.graph.node.map((n) => n.op_type));
  });

  it.skipIf(!hasChecker)('passes onnx.checker (full_check) and strict shape inference [needs python3-onnx]', () => {
    const r = checkOnnx(bytes);
    expect(r.error ?? '').toBe('');
    expect(r.ok).toBe(true);
  });

  it('ONNX Runtime loads it and fuses the QDQ pairs into QLinearConv / QLinearAdd', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'int8-opt-'));
    try {
      const file = path.join(dir, 'optimized.onnx');
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: file } as never);
      await session.release();
      const ops = decodeModel(readFileSync(file)).graph.node.map((n) => n.op_type);
      // Every backbone conv became QLinearConv; the heads read a DequantizeLinear and stay float Conv.
      expect(ops.filter((o) => o === 'QLinearConv').length).toBe(int8.summary.convs - 4);
      expect(ops.filter((o) => o === 'QLinearAdd').length).toBe(16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!hasSeed)('face-level verdict on the seed photos [needs ../shared/seed]', () => {
    const ctx = async () => {
      const inputs = await loadVerifyInputs({ randomCount: 0 });
      const { batch } = await prepareInputs(inputs, preset);
      const decode = presetDecoder(preset);
      return { inputs, batch, decode, refDetections: decode(runReference(source.graph, batch)), runs: 0 };
    };

    it('passes a model that agrees with the reference (the fp32 model.onnx judged as if it were int8)', async () => {
      const fp32 = encodeModel(buildOnnxModel(source.graph, preset, { toolkitVersion: 'test' }));
      const r = await checkInt8Onnx(source, { ...(await ctx()), bytes: fp32 });
      expect(r.failures).toEqual([]);
      expect(r.status).toBe('pass');
      expect(r.judgedOn).toEqual(['1face.png', '3faces.png', '4faces.png']);
      expect(r.worstCornerPct!).toBeLessThan(0.01);
    });

    it('judges the real int8 model with finite worst errors, and fails a quantization whose scales are 8x too large', async () => {
      const c = await ctx();
      const real = await checkInt8Onnx(source, { ...c, bytes });
      expect(['pass', 'fail']).toContain(real.status);
      expect(real.worstCornerPct).not.toBeNull();
      expect(real.faces.map((f) => f.ref)).toEqual([1, 3, 1]);
      const broken = encodeModel((await buildInt8Model(source.graph, preset, { scaleFactor: 8 })).model);
      const bad = await checkInt8Onnx(source, { ...c, bytes: broken });
      expect(bad.status).toBe('fail');
      expect(bad.failures.length).toBeGreaterThan(0);
      expect(bad.failures.join('\n')).toMatch(/short_range \/ model_int8\.onnx/);
      // The broken one is measurably worse than the real one.
      const worse = bad.faces.some((f) => f.got !== f.ref) || (bad.worstCornerPct ?? Infinity) > (real.worstCornerPct ?? 0);
      expect(worse).toBe(true);
    });

    it('convert --int8 writes model_int8.onnx, lists it in the manifest, and verify reads it from there', async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'int8-convert-'));
      try {
        const { record } = await convertPreset(preset, { artifactsRoot: root, int8: true });
        const listed = record.files.find((f) => f.path === `short_range/${INT8_ONNX_FILE}`);
        expect(listed?.size).toBe(bytes.byteLength);
        expect(Buffer.from(readFileSync(path.join(root, 'short_range', INT8_ONNX_FILE))).equals(Buffer.from(bytes))).toBe(true);
        const fromDisk = await loadModelSource(preset, { artifactsRoot: root });
        const r = await checkInt8Onnx(fromDisk, await ctx());
        expect(r.artifact).toBe(path.join(root, 'short_range', INT8_ONNX_FILE));
        expect(['pass', 'fail']).toContain(r.status);
        // Converted again without --int8: the manifest drops it, and a leftover file on disk is not judged.
        await convertPreset(preset, { artifactsRoot: root });
        const stale = await checkInt8Onnx(await loadModelSource(preset, { artifactsRoot: root }), await ctx());
        expect(stale.status).toBe('unavailable');
        expect(stale.reason).toMatch(/no model_int8\.onnx in the manifest/);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('runVerify reports it as its own section, fails the run when it fails, and says why when it is absent', async () => {
      const broken = encodeModel((await buildInt8Model(source.graph, preset, { scaleFactor: 8 })).model);
      const inputs = await loadVerifyInputs({ randomCount: 0 });
      const { report } = await runVerify({ presets: ['short_range'], backends: [], inputs, runs: 1, int8Models: { short_range: broken } });
      const r = report.presets[0]!.int8!;
      expect(r.status).toBe('fail');
      expect(r.timing?.speedup).toBeGreaterThan(0);
      expect(report.presets[0]!.pass).toBe(false);
      expect(report.summary.pass).toBe(false);
      expect(report.summary.failures.some((f) => f.includes(INT8_ONNX_FILE))).toBe(true);
      const md = markdownReport(report);
      expect(md).toContain('## model_int8.onnx at the face level (seed photos)');
      expect(md).toMatch(/\| short_range \| FAIL \| [0-9.e+-]+ \(<= 2\)/);
      // Without the file (the committed artifacts do not ship it): unavailable, the run passes on the rest.
      const without = await runVerify({ presets: ['short_range'], backends: [], inputs, runs: 1 });
      expect(without.report.presets[0]!.int8).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/convert -- --int8/) });
      expect(without.report.summary.pass).toBe(true);
    });
  });
});

describe('judgeFaces', () => {
  const face = (box: [number, number, number, number], score: number): DetectionRecord => ({ box, keypoints: [], score });
  const ref = [[face([0.2, 0.2, 0.6, 0.4], 0.8)]];

  it('measures corners in % of the face height (y) or width (x)', () => {
    // xmin off by 0.003 on a face 0.2 wide: 1.5 %; ymax off by 0.004 on a face 0.4 tall: 1 %.
    const v = judgeFaces(ref, [[face([0.2, 0.203, 0.604, 0.4], 0.79)]], ['a'], 'p');
    expect(v.pass).toBe(true);
    expect(v.worstCornerPct).toBeCloseTo(1.5, 6);
    expect(v.worst).toEqual({ input: 'a', face: 0, corner: 'xmin' });
    expect(v.worstScoreDiff).toBeCloseTo(0.01, 9);
  });

  it('fails a corner beyond 2 %, a score beyond 0.03, a missing or extra face', () => {
    expect(judgeFaces(ref, [[face([0.2, 0.205, 0.6, 0.4], 0.8)]], ['a'], 'p').failures).toEqual(['p / a: face 0 xmin off by 2.5 % of the face size > 2 %']);
    expect(judgeFaces(ref, [[face([0.2, 0.2, 0.6, 0.4], 0.84)]], ['a'], 'p').pass).toBe(false);
    expect(judgeFaces(ref, [[]], ['a'], 'p').failures).toEqual(['p / a: 0 faces, reference 1', 'p / a: reference face 0 (score 0.8) has no overlapping face']);
    const extra = judgeFaces(ref, [[face([0.2, 0.2, 0.6, 0.4], 0.8), face([0.7, 0.7, 0.9, 0.9], 0.6)]], ['a'], 'p');
    expect(extra.failures).toEqual(['p / a: 2 faces, reference 1']);
  });
});

// Hostile input, issue 9 defect 9: a graph whose operands do not fit is refused when the IR is checked
// (convert, model loading, the reference runtime), with a typed error naming op index, type and tensors;
// the reference runtime bounds its tensor sizes from the IR before allocating.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertPreset } from '../src/convert/convert.js';
import { ArtifactIntegrityError, GraphShapeError, ToolkitError } from '../src/errors.js';
import type { Graph, Op, Tensor } from '../src/ir/graph.js';
import { MAX_TENSOR_ELEMENTS, validateGraph } from '../src/ir/validate.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { runReferenceTensors } from '../src/reference/runtime.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { readTflite } from '../src/tflite/reader.js';
import { writeTflite } from '../src/tflite/writer.js';

let dir = '';
let shortRange: Graph;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blazeface-hostile-graph-'));
  const bytes = new Uint8Array(await readFile(resolvePresetModelFile(getPreset('short_range'))));
  shortRange = readTflite(bytes, 'face_detection_short_range.tflite');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** short_range with its first ADD reading the 128x128x3 image instead of its 64x64 residual operand. */
function badAddModel(): { bytes: Uint8Array; addIndex: number } {
  const add = shortRange.ops.find((op) => op.type === 'ADD')!;
  const ops = shortRange.ops.map((op) => (op === add ? { ...op, inputs: [op.inputs[0]!, shortRange.inputs[0]!] } : op));
  const bytes = writeTflite({ ...shortRange, ops });
  // The writer drops the folded DEQUANTIZE ops, so operator numbers shift: take them from the file.
  return { bytes, addIndex: readTflite(bytes, 'x').ops.find((op) => op.type === 'ADD')!.index };
}

describe('graphs that cannot run', () => {
  it('the packaged models pass the check', () => {
    expect(() => validateGraph(shortRange)).not.toThrow();
  });

  it('convert refuses an ADD of incompatible shapes, naming op, type and tensors, and writes nothing', async () => {
    const { bytes, addIndex } = badAddModel();
    const file = path.join(dir, 'bad-add.tflite');
    await writeFile(file, bytes);
    const out = path.join(dir, 'artifacts-bad-add');
    const err = await convertPreset(getPreset('front'), { modelFile: file, artifactsRoot: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphShapeError);
    const e = err as GraphShapeError;
    expect(e.code).toBe('GRAPH_SHAPE');
    expect(e.opIndex).toBe(addIndex);
    expect(e.opType).toBe('ADD');
    expect(e.message).toMatch(new RegExp(`^bad-add\\.tflite: op #${addIndex} ADD .*\\[1,128,128,3\\].* do not broadcast`));
    expect(e.tensors).toHaveLength(2);
    expect(existsSync(out)).toBe(false);
    // Loading it for a backend is refused the same way (before any runtime sees it).
    await expect(loadModelSource(getPreset('front'), { modelFile: file, verifyArtifacts: false })).rejects.toThrow(GraphShapeError);
  });

  it('an ADD whose operands broadcast beyond the declared output is refused before the reference runtime allocates it', async () => {
    // A [2300,1,1,1,1] constant next to a [1,64,64,24] activation: 226M float64 values (1.8 GB) if computed.
    const add = shortRange.ops.find((op) => op.type === 'ADD')!;
    const extra: Tensor = { index: shortRange.tensors.length, name: 'hostile_bias', shape: [2300, 1, 1, 1, 1], dtype: 'float32', sourceDtype: 'float32', buffer: 0, data: new Float32Array(2300) };
    const bytes = writeTflite({ ...shortRange, tensors: [...shortRange.tensors, extra], ops: shortRange.ops.map((op) => (op === add ? { ...op, inputs: [op.inputs[0]!, extra.index] } : op)) });
    const graph = readTflite(bytes, 'broadcast-add.tflite');
    const before = process.memoryUsage().rss;
    const err = (() => {
      try {
        runReferenceTensors(graph, { data: new Float32Array(128 * 128 * 3), shape: [1, 128, 128, 3] });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(GraphShapeError);
    expect((err as Error).message).toMatch(/op #\d+ ADD .*computes \[2300,1,64,64,24\], but output .* is declared \[1,64,64,24\]/);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 << 20);
  });

  it("another preset's .tflite is refused by convert and at load (ARTIFACT_SHAPE_MISMATCH naming the file)", async () => {
    const file = resolvePresetModelFile(getPreset('full_range'));
    const out = path.join(dir, 'artifacts-wrong-preset');
    for (const work of [
      () => convertPreset(getPreset('front'), { modelFile: file, artifactsRoot: out }),
      () => loadModelSource(getPreset('front'), { modelFile: file, verifyArtifacts: false }),
    ]) {
      const err = await work().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArtifactIntegrityError);
      expect((err as ArtifactIntegrityError).code).toBe('ARTIFACT_SHAPE_MISMATCH');
      expect((err as ArtifactIntegrityError).file).toBe(file);
      expect((err as Error).message).toMatch(/the TFLite model reports input \[\?,192,192,3\], preset 'front' \(128x128 input, 896 anchors\) expects \[\?,128,128,3\]/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('checks channel counts, strides, concat axes, reshape counts, pads and resize sizes', () => {
    const t = (index: number, shape: number[], data?: number): Tensor => ({
      index,
      name: `t${index}`,
      shape,
      dtype: 'float32',
      sourceDtype: 'float32',
      buffer: data === undefined ? 0 : index + 1,
      data: data === undefined ? undefined : new Float32Array(shape.reduce((a, b) => a * b, 1)),
    });
    const g = (tensors: Tensor[], op: Record<string, unknown>): Graph => ({
      source: { fileName: 'unit.tflite', sha256: '', byteLength: 0 },
      description: '',
      schemaVersion: 3,
      tensors,
      ops: [{ index: 0, ...op } as unknown as Op],
      foldedOps: [],
      inputs: [0],
      outputs: [tensors.length - 1],
    });
    const win = { padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'NONE' };
    const cases: [Graph, RegExp][] = [
      [g([t(0, [1, 8, 8, 3]), t(1, [4, 3, 3, 5], 0), t(2, [1, 8, 8, 4])], { type: 'CONV_2D', ...win, inputs: [0, 1], outputs: [2] }), /filter expects 5 input channels, the input has 3/],
      [g([t(0, [1, 8, 8, 3]), t(1, [4, 3, 3, 3], 0), t(2, [1, 8, 8, 4])], { type: 'CONV_2D', ...win, strideH: 0, inputs: [0, 1], outputs: [2] }), /stride_h is 0/],
      [g([t(0, [1, 8, 8, 3]), t(1, [4, 3, 3, 3], 0), t(2, [1, 8, 8, 4])], { type: 'CONV_2D', ...win, strideH: 2, inputs: [0, 1], outputs: [2] }), /computes \[1,4,8,4\], but output #2/],
      [g([t(0, [1, 2, 2, 3]), t(1, [4, 3, 3, 3], 0), t(2, [1, 1, 1, 4])], { type: 'CONV_2D', ...win, padding: 'VALID', inputs: [0, 1], outputs: [2] }), /VALID window of 3x3 .* does not fit the 2x2 input/],
      [g([t(0, [1, 8, 8, 3]), t(1, [1, 8, 8, 2], 0), t(2, [1, 8, 16, 3])], { type: 'CONCATENATION', axis: 2, activation: 'NONE', inputs: [0, 1], outputs: [2] }), /\[1,8,8,2\] does not match \[1,8,8,3\] outside axis 2/],
      [g([t(0, [1, 8, 8, 3]), t(1, [1, 100])], { type: 'RESHAPE', newShape: [1, 100], inputs: [0], outputs: [1] }), /holds 100 elements, the input 192/],
      [g([t(0, [1, 8, 8, 3]), t(1, [1, 8, 8, 5])], { type: 'PAD', paddings: [[0, 0], [0, 0], [0, 0], [-1, 3]], inputs: [0], outputs: [1] }), /padding of dimension 3 is \[-1,3\]/],
      [g([t(0, [1, 8, 8, 3]), t(1, [1, 0, 8, 3])], { type: 'RESIZE_BILINEAR', size: [0, 8], alignCorners: false, halfPixelCenters: false, inputs: [0], outputs: [1] }), /size \[0,8\] must be two positive integers/],
      [g([t(0, [1, 8, 8, 6]), t(1, [1, 16, 16, 1])], { type: 'DEPTH_TO_SPACE', blockSize: 2, inputs: [0], outputs: [1] }), /6 channels are not divisible by block_size\^2/],
      [g([t(0, [1, 8, 8, 3]), t(1, [1, 8, 8, 3])], { type: 'RELU', inputs: [5], outputs: [1] }), /reads tensor #5, which does not exist/],
    ];
    for (const [graph, message] of cases) {
      const err = (() => {
        try {
          validateGraph(graph);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, String(message)).toBeInstanceOf(GraphShapeError);
      expect((err as Error).message, String(message)).toMatch(message);
      expect((err as Error).message).toMatch(/^unit\.tflite: op #0 /);
    }
  });

  it('the reference runtime refuses, before allocating, a tensor too large for the IR or for the batch', () => {
    const resize = (h: number, w: number): Graph => ({
      source: { fileName: 'resize.tflite', sha256: '', byteLength: 0 },
      description: '',
      schemaVersion: 3,
      tensors: [
        { index: 0, name: 'image', shape: [1, 8, 8, 1], dtype: 'float32', sourceDtype: 'float32', buffer: 0 },
        { index: 1, name: 'big', shape: [1, h, w, 1], dtype: 'float32', sourceDtype: 'float32', buffer: 0 },
      ],
      ops: [{ index: 0, type: 'RESIZE_BILINEAR', size: [h, w], alignCorners: false, halfPixelCenters: false, inputs: [0], outputs: [1] }],
      foldedOps: [],
      inputs: [0],
      outputs: [1],
    });
    const batch = (n: number) => ({ data: new Float32Array(n * 64), shape: [n, 8, 8, 1] as [number, number, number, number] });
    // Per image already above the IR bound.
    const tooBig = resize(16384, 16384);
    expect(16384 * 16384).toBeGreaterThan(MAX_TENSOR_ELEMENTS);
    expect(() => runReferenceTensors(tooBig, batch(1))).toThrow(expect.objectContaining({ code: 'GRAPH_TOO_LARGE' }));
    // Fine per image (16.7M values), too much for a batch of 9 (151M float64 values = 1.2 GB).
    const ok = resize(4096, 4096);
    const before = process.memoryUsage().rss;
    const err = (() => {
      try {
        runReferenceTensors(ok, batch(9));
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ToolkitError);
    expect((err as ToolkitError).code).toBe('REFERENCE_TOO_LARGE');
    expect((err as Error).message).toMatch(/^resize\.tflite: tensor #1 'big': op #0 RESIZE_BILINEAR would produce 150994944 float64 values for a batch of 9/);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 << 20);
  });
});

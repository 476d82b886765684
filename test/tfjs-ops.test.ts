// Every IR op through the tfjs lowering table, on a small hand-built graph: tfjs-cpu and tfjs-wasm
// must match the float64 reference runtime. Covers what the MediaPipe models do not use
// (RESIZE_BILINEAR, DEPTH_TO_SPACE, depth multiplier 2, RELU6 / RELU_N1_TO_1 / TANH, conv without
// bias, reshape with -1) and the per-tensor float32 fallback of float16 storage.
import { describe, expect, it } from 'vitest';
import type { ImageBatch, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { tfjsCpuBackend, tfjsWasmBackend } from '../src/backends/tfjs.js';
import { emitTfjs } from '../src/emit/tfjs/emit.js';
import { encodeFloat16Exact, float16BitsToFloat32, float32ToFloat16Bits } from '../src/emit/tfjs/float16.js';
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, Graph, Op, Tensor } from '../src/ir/graph.js';
import { PRESETS } from '../src/presets/index.js';
import { runReference } from '../src/reference/runtime.js';
import { mulberry32 } from '../src/util/random.js';
import { maxScaledDiff } from './helpers/tolerance.js';

/** A graph exercising every op; weights are float16 values unless `float32Weight` names one to perturb. */
function syntheticGraph(float32Weight?: string): Graph {
  const rand = mulberry32(7);
  const tensors: Tensor[] = [];
  const t = (name: string, shape: number[], fill?: 'weight', scale = 0.8): number => {
    const index = tensors.length;
    let data: Float32Array | undefined;
    if (fill) {
      data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = float16BitsToFloat32(float32ToFloat16Bits((rand() - 0.5) * scale));
      if (name === float32Weight) data[0] = 0.1; // 0.1 is not a float16
    }
    tensors.push({ index, name, shape, dtype: 'float32', sourceDtype: fill ? 'float16' : 'float32', buffer: 0, ...(data ? { data } : {}) });
    return index;
  };
  const ops: Op[] = [];
  const conv = (x: number, w: number, b: number | null, out: number, padding: 'SAME' | 'VALID', s: number, activation: Activation): void => {
    ops.push({ index: ops.length, type: 'CONV_2D', inputs: b === null ? [x, w] : [x, w, b], outputs: [out], padding, strideH: s, strideW: s, dilationH: 1, dilationW: 1, activation });
  };
  const x = t('input', [1, 8, 8, 3]);
  const t1 = t('t1', [1, 4, 4, 8]);
  // Large enough weights that RELU, RELU6 and RELU_N1_TO_1 all clip somewhere (values well above 6).
  conv(x, t('w1', [8, 3, 3, 3], 'weight', 6), t('b1', [8], 'weight'), t1, 'SAME', 2, 'RELU');
  const t2 = t('t2', [1, 4, 4, 16]);
  ops.push({
    index: ops.length, type: 'DEPTHWISE_CONV_2D', inputs: [t1, t('w2', [1, 3, 3, 16], 'weight', 4), t('b2', [16], 'weight')], outputs: [t2],
    padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, depthMultiplier: 2, activation: 'RELU6',
  });
  const t3 = t('t3', [1, 8, 8, 4]);
  ops.push({ index: ops.length, type: 'DEPTH_TO_SPACE', inputs: [t2], outputs: [t3], blockSize: 2 });
  const t4 = t('t4', [1, 4, 4, 4]);
  ops.push({ index: ops.length, type: 'MAX_POOL_2D', inputs: [t3], outputs: [t4], padding: 'SAME', strideH: 2, strideW: 2, filterH: 3, filterW: 3, activation: 'RELU_N1_TO_1' });
  const t5 = t('t5', [1, 7, 7, 4]);
  ops.push({ index: ops.length, type: 'RESIZE_BILINEAR', inputs: [t4], outputs: [t5], size: [7, 7], alignCorners: false, halfPixelCenters: true });
  const t6 = t('t6', [1, 8, 8, 4]);
  ops.push({ index: ops.length, type: 'PAD', inputs: [t5], outputs: [t6], paddings: [[0, 0], [0, 1], [0, 1], [0, 0]] });
  const t7 = t('t7', [1, 4, 4, 4]);
  conv(t6, t('w7', [4, 3, 3, 4], 'weight'), null, t7, 'SAME', 2, 'TANH');
  const t8 = t('t8', [1, 4, 4, 4]);
  ops.push({ index: ops.length, type: 'ADD', inputs: [t7, t4], outputs: [t8], activation: 'RELU' });
  const t9 = t('t9', [1, 4, 4, 4]);
  ops.push({ index: ops.length, type: 'RELU', inputs: [t8], outputs: [t9] });
  const head = (src: number, name: string, c: number, newShape: number[], scale = 0.8): number => {
    const y = t(`${name}_map`, [1, 4, 4, c]);
    conv(src, t(`${name}_w`, [c, 1, 1, 4], 'weight', scale), t(`${name}_b`, [c], 'weight'), y, 'VALID', 1, 'NONE');
    const r = t(name, [1, 16, c]);
    ops.push({ index: ops.length, type: 'RESHAPE', inputs: [y], outputs: [r], newShape });
    return r;
  };
  const ra = head(t9, 'ra', 16, [1, 16, 16], 40); // large, so the RELU6 on the concat clips
  const rb = head(t4, 'rb', 16, [1, -1, 16]);
  const ca = head(t9, 'ca', 1, [1, 16, 1]);
  const cb = head(t8, 'cb', 1, [1, 16, 1]);
  const reg = t('regressors', [1, 32, 16]);
  ops.push({ index: ops.length, type: 'CONCATENATION', inputs: [ra, rb], outputs: [reg], axis: 1, activation: 'RELU6' });
  const cls = t('classificators', [1, 32, 1]);
  ops.push({ index: ops.length, type: 'CONCATENATION', inputs: [ca, cb], outputs: [cls], axis: 1, activation: 'NONE' });
  return {
    source: { fileName: 'synthetic.tflite', sha256: '0'.repeat(64), byteLength: 0 },
    description: 'synthetic',
    schemaVersion: 3,
    tensors,
    ops,
    foldedOps: [],
    inputs: [x],
    outputs: [reg, cls],
  };
}

function batchOf(n: number, seed: number): ImageBatch {
  const rand = mulberry32(seed);
  const data = new Float32Array(n * 8 * 8 * 3);
  for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
  return { data, shape: [n, 8, 8, 3] };
}

function source(graph: Graph, weightDtype: 'float16' | 'float32'): { src: ModelSource; notes: readonly string[]; meta: Record<string, unknown> } {
  const art = emitTfjs(graph, PRESETS.short_range, { weightDtype, toolkitVersion: 'test' });
  return {
    src: {
      preset: PRESETS.short_range,
      tflitePath: 'synthetic.tflite',
      tfliteBytes: new Uint8Array(0),
      graph,
      artifactsDir: '/nonexistent',
      overrides: { tfjs: { modelJson: art.modelJson, weights: art.weights } },
    },
    notes: art.notes,
    meta: art.modelJson.userDefinedMetadata,
  };
}

describe('float16 storage codec', () => {
  it('agrees with tfjs on every binary16 value and re-encodes each one to the same bits', async () => {
    await tf.setBackend('cpu');
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00 || (h & 0x3ff) === 0); // NaNs have no single bit pattern
    const [decoded] = Object.values(
      tf.io.decodeWeights(finite.slice().buffer, [{ name: 'h', shape: [finite.length], dtype: 'float32', quantization: { dtype: 'float16' } }]),
    ) as [tf.Tensor];
    const fromTfjs = decoded.dataSync() as Float32Array;
    decoded.dispose();
    const mine = Float32Array.from(finite, (h) => float16BitsToFloat32(h));
    expect(Buffer.from(mine.buffer).equals(Buffer.from(fromTfjs.buffer, fromTfjs.byteOffset, fromTfjs.byteLength))).toBe(true);
    const enc = encodeFloat16Exact(mine);
    expect(enc.ok && Buffer.from(enc.halves.buffer).equals(Buffer.from(finite.buffer))).toBe(true);
    // Round to nearest even between neighbours, and refuse what float16 cannot hold.
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(70000)).toBe(0x7c00);
    expect(encodeFloat16Exact(Float32Array.of(0.5, 0.1))).toEqual({ ok: false, index: 1 });
  });
});

describe('tfjs lowering of every IR op (synthetic graph)', () => {
  const graph = syntheticGraph();
  it('folds the zero spatial PAD into the conv as EXPLICIT padding and names the output nodes directly', () => {
    const nodes = emitTfjs(graph, PRESETS.short_range, { weightDtype: 'float32', toolkitVersion: 'test' }).modelJson.modelTopology.node;
    expect(nodes.filter((n) => n.op === 'Pad' || n.op === 'PadV2' || n.op === 'Identity')).toEqual([]);
    const conv = nodes.find((n) => n.name === 'op6/Conv2D')!;
    expect(conv.input![0]).toBe('op4/ResizeBilinear');
    expect(conv.attr!.padding).toEqual({ s: Buffer.from('EXPLICIT').toString('base64') });
    // SAME on the padded 8x8 input with a 3x3 kernel at stride 2 is [0, 1]; the PAD adds [0, 1] more.
    expect(conv.attr!.explicit_paddings).toEqual({ list: { i: ['0', '0', '0', '2', '0', '2', '0', '0'] } });
    // regressors: the RELU6 fused into its CONCATENATION; classificators: the ConcatV2 itself.
    expect(nodes.filter((n) => n.name === 'regressors' || n.name === 'classificators').map((n) => [n.name, n.op])).toEqual([['regressors', 'Relu6'], ['classificators', 'ConcatV2']]);
  });
  for (const factory of [tfjsCpuBackend, tfjsWasmBackend]) {
    for (const dtype of ['float16', 'float32'] as const) {
      it(`${factory.name} with ${dtype} weights matches the reference for N=1 and N=3`, async () => {
        const backend = await factory.load(source(graph, dtype).src);
        try {
          for (const n of [1, 3]) {
            const batch = batchOf(n, 100 + n);
            const ref: RawOutputs = runReference(graph, batch);
            const got = await backend.run(batch);
            expect(got.batch).toBe(n);
            expect(got.numAnchors).toBe(32);
            const errR = maxScaledDiff(ref.regressors, got.regressors);
            const errC = maxScaledDiff(ref.classificators, got.classificators);
            console.log(`synthetic ${factory.name} ${dtype} N=${n}: max_err regressors ${errR.toExponential(2)} classificators ${errC.toExponential(2)}`);
            expect(errR).toBeLessThanOrEqual(1e-4);
            expect(errC).toBeLessThanOrEqual(1e-4);
          }
        } finally {
          await backend.dispose();
        }
      });
    }
  }

  it('keeps a weight that is not a float16 as float32, says so, and still matches', async () => {
    const g = syntheticGraph('w7');
    const { src, notes, meta } = source(g, 'float16');
    const w7 = g.tensors.find((x) => x.name === 'w7')!.index;
    expect(meta.float32Fallbacks).toEqual([`t${w7}/hwio`]);
    expect(notes.join('\n')).toContain(`t${w7}/hwio: value #0 = 0.10000000149011612 is not a float16`);
    const backend = await tfjsCpuBackend.load(src);
    try {
      const batch = batchOf(2, 9);
      const got = await backend.run(batch);
      const ref = runReference(g, batch);
      expect(maxScaledDiff(ref.regressors, got.regressors)).toBeLessThanOrEqual(1e-4);
    } finally {
      await backend.dispose();
    }
  });
});

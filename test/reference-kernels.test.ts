// Hand-computed cases for the float64 reference kernels, run through the full interpreter
// so the graph plumbing (constants, batch N, shape checks) is exercised as well.
import { describe, expect, it } from 'vitest';
import type { ImageBatch } from '../src/backends/backend.js';
import { GraphShapeError, InputImageError, UnsupportedOpError } from '../src/errors.js';
import type { Activation, Graph, Op, Tensor } from '../src/ir/graph.js';
import { window1D } from '../src/reference/kernels/padding.js';
import { ReferenceShapeError, runReference, runReferenceTensors } from '../src/reference/runtime.js';

type OpSpec = Op extends infer T ? (T extends Op ? Omit<T, 'index'> : never) : never;

/** A one-input graph; tensors with `data` are constants. */
function graph(tensors: { shape: number[]; data?: number[] }[], ops: OpSpec[], outputs: number[]): Graph {
  const ts: Tensor[] = tensors.map((t, index) => ({
    index,
    name: `t${index}`,
    shape: t.shape,
    dtype: 'float32',
    sourceDtype: 'float32',
    buffer: t.data ? index + 1 : 0,
    data: t.data ? Float32Array.from(t.data) : undefined,
  }));
  return {
    source: { fileName: 'unit.tflite', sha256: '', byteLength: 0 },
    description: 'unit',
    schemaVersion: 3,
    tensors: ts,
    ops: ops.map((op, index) => ({ ...op, index }) as Op),
    foldedOps: [],
    inputs: [0],
    outputs,
  };
}

function batchOf(shape: [number, number, number, number], values: number[]): ImageBatch {
  return { shape, data: Float32Array.from(values) };
}

function range(n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

/** Run a graph and return the data of tensor `index`. */
function run(g: Graph, b: ImageBatch, index: number): { shape: readonly number[]; data: number[] } {
  const t = runReferenceTensors(g, b).get(index)!;
  return { shape: t.shape, data: Array.from(t.data) };
}

const conv = (padding: 'SAME' | 'VALID', stride: number, dilation = 1, activation: Activation = 'NONE') =>
  ({ type: 'CONV_2D', padding, strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation, activation }) as const;

describe('SAME / VALID window arithmetic', () => {
  it('puts the odd padding pixel after (bottom/right)', () => {
    expect(window1D(4, 3, 2, 1, 'SAME')).toEqual({ out: 2, before: 0 }); // total 1: 0 before, 1 after
    expect(window1D(5, 3, 2, 1, 'SAME')).toEqual({ out: 3, before: 1 }); // total 2
    expect(window1D(128, 5, 2, 1, 'SAME')).toEqual({ out: 64, before: 1 }); // total 3: 1 before, 2 after
    expect(window1D(4, 2, 2, 1, 'SAME')).toEqual({ out: 2, before: 0 });
    expect(window1D(5, 3, 1, 2, 'VALID')).toEqual({ out: 1, before: 0 });
    expect(window1D(7, 3, 2, 1, 'VALID')).toEqual({ out: 3, before: 0 });
  });
});

describe('CONV_2D', () => {
  it('SAME with stride 2 pads bottom/right only', () => {
    // 4x4 input 1..16, 3x3 ones kernel: output 2x2, one padding row/col after.
    const g = graph(
      [{ shape: [1, 4, 4, 1] }, { shape: [1, 3, 3, 1], data: Array(9).fill(1) }, { shape: [1], data: [0] }, { shape: [1, 2, 2, 1] }],
      [{ ...conv('SAME', 2), inputs: [0, 1, 2], outputs: [3] }],
      [3],
    );
    const out = run(g, batchOf([1, 4, 4, 1], range(16, 1)), 3);
    expect(out.shape).toEqual([1, 2, 2, 1]);
    // top-left sums rows/cols 0..2; a symmetric pad would give 1+2+5+6 = 14 instead of 54.
    expect(out.data).toEqual([54, 45, 72, 54]);
  });

  it('applies dilation, bias and O,KH,KW,I filter layout', () => {
    // 5x5 input 0..24, 3x3 kernel dilation 2 VALID: taps at rows/cols 0,2,4.
    // Two output channels: ones (+bias 1) and the tap index (row-major) weights.
    const w = [...Array(9).fill(1), ...range(9)];
    const g = graph(
      [{ shape: [1, 5, 5, 1] }, { shape: [2, 3, 3, 1], data: w }, { shape: [2], data: [1, -100] }, { shape: [1, 1, 1, 2] }],
      [{ ...conv('VALID', 1, 2), inputs: [0, 1, 2], outputs: [3] }],
      [3],
    );
    const taps = [0, 2, 4, 10, 12, 14, 20, 22, 24];
    const weighted = taps.reduce((a, v, i) => a + v * i, 0);
    expect(run(g, batchOf([1, 5, 5, 1], range(25)), 3).data).toEqual([108 + 1, weighted - 100]);
  });

  it('sums over input channels and applies each fused activation', () => {
    // 1x1 conv over 2 channels: y = 2*x0 - x1 + bias.
    const input = [3, 1, -2, 1, 0.25, 0, 10, -5];
    const pre = [5, -5, 0.5, 25].map((v) => v + 0.125);
    const cases: [Activation, (v: number) => number][] = [
      ['NONE', (v) => v],
      ['RELU', (v) => Math.max(0, v)],
      ['RELU6', (v) => Math.min(6, Math.max(0, v))],
      ['RELU_N1_TO_1', (v) => Math.min(1, Math.max(-1, v))],
      ['TANH', Math.tanh],
    ];
    for (const [act, f] of cases) {
      const g = graph(
        [{ shape: [1, 2, 2, 2] }, { shape: [1, 1, 1, 2], data: [2, -1] }, { shape: [1], data: [0.125] }, { shape: [1, 2, 2, 1] }],
        [{ ...conv('VALID', 1, 1, act), inputs: [0, 1, 2], outputs: [3] }],
        [3],
      );
      const out = run(g, batchOf([1, 2, 2, 2], input), 3).data;
      out.forEach((v, i) => expect(v).toBeCloseTo(f(pre[i]!), 12));
    }
  });

  it('a zero input times an infinite weight is NaN, as in TFLite (the zero-skip must not hide it)', () => {
    const g = graph(
      [{ shape: [1, 1, 2, 2] }, { shape: [1, 1, 1, 2], data: [Infinity, 1] }, { shape: [1], data: [0] }, { shape: [1, 1, 2, 1] }],
      [{ ...conv('VALID', 1), inputs: [0, 1, 2], outputs: [3] }],
      [3],
    );
    expect(run(g, batchOf([1, 1, 2, 2], [0, 5, 1, 5]), 3).data).toEqual([NaN, Infinity]);
  });
});

describe('DEPTHWISE_CONV_2D', () => {
  it('maps output channel c*M + m to input channel c', () => {
    // H=1, W=2, C=2, kernel 1x2, M=2: out[c*2+m] = sum_kx x[kx][c] * w[kx][c*2+m] + bias.
    const g = graph(
      [
        { shape: [1, 1, 2, 2] },
        { shape: [1, 1, 2, 4], data: [1, 2, 3, 4, 10, 20, 30, 40] },
        { shape: [4], data: [0.5, 0, 0, -1] },
        { shape: [1, 1, 1, 4] },
      ],
      [
        {
          type: 'DEPTHWISE_CONV_2D',
          padding: 'VALID',
          strideH: 1,
          strideW: 1,
          dilationH: 1,
          dilationW: 1,
          depthMultiplier: 2,
          activation: 'NONE',
          inputs: [0, 1, 2],
          outputs: [3],
        },
      ],
      [3],
    );
    expect(run(g, batchOf([1, 1, 2, 2], [1, 2, 3, 4]), 3).data).toEqual([31.5, 62, 126, 167]);
  });

  it('rejects a depth multiplier the filter contradicts', () => {
    const g = graph(
      [{ shape: [1, 1, 1, 2] }, { shape: [1, 1, 1, 4], data: [1, 1, 1, 1] }, { shape: [1, 1, 1, 4] }],
      [
        {
          type: 'DEPTHWISE_CONV_2D',
          padding: 'VALID',
          strideH: 1,
          strideW: 1,
          dilationH: 1,
          dilationW: 1,
          depthMultiplier: 1,
          activation: 'NONE',
          inputs: [0, 1],
          outputs: [2],
        },
      ],
      [2],
    );
    // Caught by the IR check before the kernel runs.
    expect(() => run(g, batchOf([1, 1, 1, 2], [1, 2]), 2)).toThrow(GraphShapeError);
    expect(() => run(g, batchOf([1, 1, 1, 2], [1, 2]), 2)).toThrow(/op #0 DEPTHWISE_CONV_2D .*the filter has 4 channels, expected input channels 2 x depth multiplier 1/);
  });
});

describe('MAX_POOL_2D', () => {
  it('ignores SAME padding cells (never compares zeros)', () => {
    const g = graph(
      [{ shape: [1, 3, 3, 1] }, { shape: [1, 2, 2, 1] }],
      [{ type: 'MAX_POOL_2D', padding: 'SAME', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE', inputs: [0], outputs: [1] }],
      [1],
    );
    expect(run(g, batchOf([1, 3, 3, 1], range(9, 1).map((v) => -v)), 1).data).toEqual([-1, -3, -7, -9]);
  });
});

describe('RESIZE_BILINEAR', () => {
  // 2x2 input [[0,1],[2,3]] to 4x4: separable, value = px[x] + 2*py[y].
  const run4 = (alignCorners: boolean, halfPixelCenters: boolean) => {
    const g = graph(
      [{ shape: [1, 2, 2, 1] }, { shape: [1, 4, 4, 1] }],
      [{ type: 'RESIZE_BILINEAR', size: [4, 4], alignCorners, halfPixelCenters, inputs: [0], outputs: [1] }],
      [1],
    );
    return run(g, batchOf([1, 2, 2, 1], [0, 1, 2, 3]), 1).data;
  };
  const expected = (p: number[]) => p.flatMap((py) => p.map((px) => px + 2 * py));

  it('default: src = dst * in/out, clamped at the edge', () => {
    expect(run4(false, false)).toEqual(expected([0, 0.5, 1, 1]));
  });
  it('align_corners: src = dst * (in-1)/(out-1)', () => {
    run4(true, false).forEach((v, i) => expect(v).toBeCloseTo(expected([0, 1 / 3, 2 / 3, 1])[i]!, 12));
  });
  it('half_pixel_centers: src = (dst+0.5)*scale - 0.5, negative src reads row 0', () => {
    expect(run4(false, true)).toEqual(expected([0, 0.25, 0.75, 1]));
  });
});

describe('DEPTH_TO_SPACE', () => {
  it('uses DCR order: channel (by*bs + bx)*C + c', () => {
    const g = graph(
      [{ shape: [1, 1, 2, 8] }, { shape: [1, 2, 4, 2] }],
      [{ type: 'DEPTH_TO_SPACE', blockSize: 2, inputs: [0], outputs: [1] }],
      [1],
    );
    expect(run(g, batchOf([1, 1, 2, 8], range(16)), 1).data).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15]);
  });
});

describe('ADD, PAD, RELU', () => {
  it('broadcasts a per-channel constant and applies the fused activation', () => {
    const g = graph(
      [{ shape: [1, 1, 2, 2] }, { shape: [2], data: [10, -10] }, { shape: [1, 1, 2, 2] }],
      [{ type: 'ADD', activation: 'RELU', inputs: [0, 1], outputs: [2] }],
      [2],
    );
    expect(run(g, batchOf([2, 1, 2, 2], [1, 2, 3, 4, -20, 12, 5, 6]), 2).data).toEqual([11, 0, 13, 0, 0, 2, 15, 0]);
  });

  it('pads with zeros, before/after per dimension (channel padding too)', () => {
    const g = graph(
      [{ shape: [1, 1, 2, 1] }, { shape: [1, 2, 3, 2] }],
      [{ type: 'PAD', paddings: [[0, 0], [0, 1], [1, 0], [0, 1]], inputs: [0], outputs: [1] }],
      [1],
    );
    const out = run(g, batchOf([1, 1, 2, 1], [7, 8]), 1);
    expect(out.shape).toEqual([1, 2, 3, 2]);
    expect(out.data).toEqual([0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('RELU clamps negatives', () => {
    const g = graph([{ shape: [1, 1, 1, 3] }, { shape: [1, 1, 1, 3] }], [{ type: 'RELU', inputs: [0], outputs: [1] }], [1]);
    expect(run(g, batchOf([1, 1, 1, 3], [-1, 0, 2]), 1).data).toEqual([0, 0, 2]);
  });
});

describe('detector-shaped graph with batch N', () => {
  // Input [1,2,2,3]; regressors = reshape(conv1x1 -> 16 ch) [1,4,16]; classificators = reshape(conv1x1 -> 1 ch) [1,4,1].
  const wReg = range(16 * 3).map((i) => ((i % 7) - 3) / 4);
  const wCls = [1, -2, 0.5];
  const g = graph(
    [
      { shape: [1, 2, 2, 3] },
      { shape: [16, 1, 1, 3], data: wReg },
      { shape: [1, 2, 2, 16] },
      { shape: [1, 4, 16] },
      { shape: [1, 1, 1, 3], data: wCls },
      { shape: [1, 2, 2, 1] },
      { shape: [1, 4, 1] },
    ],
    [
      { ...conv('VALID', 1), inputs: [0, 1], outputs: [2] },
      { type: 'RESHAPE', newShape: [1, 4, 16], inputs: [2], outputs: [3] },
      { ...conv('VALID', 1), inputs: [0, 4], outputs: [5] },
      { type: 'RESHAPE', newShape: [1, 4, 1], inputs: [5], outputs: [6] },
    ],
    [3, 6],
  );
  const n = 3;
  const input = range(n * 12).map((i) => Math.sin(i) * 0.9);

  it('returns [N, A, 16] and [N, A, 1] computed per image', () => {
    const out = runReference(g, batchOf([n, 2, 2, 3], input));
    expect(out).toMatchObject({ batch: n, numAnchors: 4, numCoords: 16 });
    expect(out.regressors).toBeInstanceOf(Float64Array);
    expect(out.regressors.length).toBe(n * 4 * 16);
    for (let b = 0; b < n; b++) {
      for (let a = 0; a < 4; a++) {
        const px = input.slice((b * 4 + a) * 3, (b * 4 + a + 1) * 3).map((v) => Math.fround(v));
        const cls = px.reduce((s, v, i) => s + v * wCls[i]!, 0);
        expect(out.classificators[b * 4 + a]).toBeCloseTo(cls, 12);
        for (let o = 0; o < 16; o++) {
          const reg = px.reduce((s, v, i) => s + v * Math.fround(wReg[o * 3 + i]!), 0);
          expect(out.regressors[(b * 4 + a) * 16 + o]).toBeCloseTo(reg, 12);
        }
      }
    }
  });

  it('concatenates along axis 1 separately for every batch row', () => {
    // x [N,2,2,1] -> reshape [N,4,1]; 2*x (1x1 conv) -> reshape [N,4,1]; concat on axis 1 -> [N,8,1].
    const gc = graph(
      [
        { shape: [1, 2, 2, 1] },
        { shape: [1, 4, 1] },
        { shape: [1, 1, 1, 1], data: [2] },
        { shape: [1, 2, 2, 1] },
        { shape: [1, 4, 1] },
        { shape: [1, 8, 1] },
      ],
      [
        { type: 'RESHAPE', newShape: [1, 4, 1], inputs: [0], outputs: [1] },
        { ...conv('VALID', 1), inputs: [0, 2], outputs: [3] },
        { type: 'RESHAPE', newShape: [-1, 4, 1], inputs: [3], outputs: [4] },
        { type: 'CONCATENATION', axis: 1, activation: 'NONE', inputs: [1, 4], outputs: [5] },
      ],
      [5],
    );
    const out = run(gc, batchOf([2, 2, 2, 1], range(8, 1)), 5);
    expect(out.shape).toEqual([2, 8, 1]);
    expect(out.data).toEqual([1, 2, 3, 4, 2, 4, 6, 8, 5, 6, 7, 8, 10, 12, 14, 16]);
  });

  it('rejects a batch whose H, W or C differ from the model input, with a typed error', () => {
    expect(() => runReference(g, batchOf([1, 3, 2, 3], range(18)))).toThrow(InputImageError);
    expect(() => runReference(g, batchOf([1, 2, 2, 4], range(16)))).toThrow(/expects \[N,2,2,3\]/);
    expect(() => runReference(g, { shape: [2, 2, 2, 3], data: new Float32Array(12) })).toThrow(InputImageError);
    try {
      runReference(g, batchOf([0, 2, 2, 3], []));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputImageError);
      expect((err as InputImageError).code).toBe('BATCH_SHAPE');
    }
  });
});

describe('graph checks', () => {
  it('names the tensor when a computed shape contradicts the declared one', () => {
    const g = graph(
      [{ shape: [1, 4, 4, 1] }, { shape: [1, 3, 3, 1] }],
      [{ type: 'MAX_POOL_2D', padding: 'VALID', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE', inputs: [0], outputs: [1] }],
      [1],
    );
    expect(() => runReferenceTensors(g, batchOf([1, 4, 4, 1], range(16)))).toThrow(GraphShapeError);
    expect(() => runReferenceTensors(g, batchOf([1, 4, 4, 1], range(16)))).toThrow(/op #0 MAX_POOL_2D .*computes \[1,2,2,1\], but output #1 't1'/);
  });

  it('an output too large to allocate is refused from the IR (GRAPH_TOO_LARGE) naming op and tensor, not a RangeError', () => {
    const huge = 2 ** 40;
    const g = graph(
      [{ shape: [1, 2, 2, 1] }, { shape: [1, 2, 2, huge] }],
      [{ type: 'PAD', paddings: [[0, 0], [0, 0], [0, 0], [0, huge - 1]], inputs: [0], outputs: [1] }],
      [1],
    );
    expect(() => runReferenceTensors(g, batchOf([1, 2, 2, 1], range(4)))).toThrow(GraphShapeError);
    expect(() => runReferenceTensors(g, batchOf([1, 2, 2, 1], range(4)))).toThrow(/^unit\.tflite: op #0 PAD: tensor #1 't1' \[1,2,2,1099511627776\] has 4398046511104 elements, more than/);
  });

  it('rejects an op type it has no kernel for with UnsupportedOpError', () => {
    const g = graph([{ shape: [1, 1, 1, 1] }, { shape: [1, 1, 1, 1] }], [{ type: 'RELU', inputs: [0], outputs: [1] }], [1]);
    const bad = { ...g, ops: [{ ...g.ops[0]!, type: 'SOFTMAX' } as unknown as Op] };
    expect(() => runReferenceTensors(bad, batchOf([1, 1, 1, 1], [1]))).toThrow(UnsupportedOpError);
  });
});

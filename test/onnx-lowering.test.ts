// Per-op ONNX lowerings on tiny hand-built IR graphs, run on onnxruntime-node with batch 2 and compared
// with the float64 reference runtime (which shares no code with the emitter).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxEmitError } from '../src/emit/onnx/builder.js';
import { findPadFolds, buildOnnxModelFor, withFixedBatch } from '../src/emit/onnx/emit.js';
import { samePadding, scaleFor, type OnnxLoweringOptions } from '../src/emit/onnx/lowerings.js';
import { planChannelWidths } from '../src/emit/onnx/widths.js';
import { decodeModel, encodeModel, type ModelProto } from '../src/emit/onnx/proto.js';
import type { Activation, Graph, Op, Padding, Tensor } from '../src/ir/graph.js';
import { runReferenceTensors } from '../src/reference/runtime.js';
import { checkOnnx, parity, pythonOnnxAvailable, randomArray } from './onnx-helpers.js';

type OpSpec = Op extends infer O ? (O extends Op ? Omit<O, 'index'> : never) : never;

/** Builds an IR graph by hand: tensors with batch 1 in their declared shapes, ops in order. */
class GraphBuilder {
  private readonly tensors: Tensor[] = [];
  private readonly ops: Op[] = [];
  private seed = 100;

  tensor(name: string, shape: number[], data?: Float32Array): number {
    const index = this.tensors.length;
    this.tensors.push({ index, name, shape, dtype: 'float32', sourceDtype: 'float32', buffer: data ? index + 1 : 0, data });
    return index;
  }

  weights(name: string, shape: number[]): number {
    return this.tensor(name, shape, randomArray(shape.reduce((a, b) => a * b, 1), this.seed++, -0.5, 0.5));
  }

  op(spec: OpSpec): void {
    this.ops.push({ ...spec, index: this.ops.length } as Op);
  }

  conv(x: number, out: number[], k: [number, number], stride: number, padding: Padding, activation: Activation = 'NONE'): number {
    const cin = this.tensors[x]!.shape[3]!;
    const w = this.weights(`w${this.ops.length}`, [out[3]!, k[0], k[1], cin]);
    const b = this.weights(`b${this.ops.length}`, [out[3]!]);
    const y = this.tensor(`conv${this.ops.length}`, out);
    this.op({ type: 'CONV_2D', inputs: [x, w, b], outputs: [y], padding, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation });
    return y;
  }

  depthwise(x: number, out: number[], k: number, stride: number, padding: Padding, multiplier = 1, activation: Activation = 'NONE'): number {
    const w = this.weights(`dw${this.ops.length}`, [1, k, k, out[3]!]);
    const b = this.weights(`db${this.ops.length}`, [out[3]!]);
    const y = this.tensor(`dwconv${this.ops.length}`, out);
    this.op({
      type: 'DEPTHWISE_CONV_2D',
      inputs: [x, w, b],
      outputs: [y],
      padding,
      strideH: stride,
      strideW: stride,
      dilationH: 1,
      dilationW: 1,
      depthMultiplier: multiplier,
      activation,
    });
    return y;
  }

  build(input: number, outputs: number[]): Graph {
    return {
      source: { fileName: 'synthetic.tflite', sha256: '0'.repeat(64), byteLength: 0 },
      description: 'synthetic',
      schemaVersion: 3,
      tensors: this.tensors,
      ops: this.ops,
      foldedOps: [],
      inputs: [input],
      outputs,
    };
  }
}

function model(graph: Graph, lowering?: Partial<OnnxLoweringOptions>): ModelProto {
  return buildOnnxModelFor(graph, {
    lowering,
    graphName: 'synthetic',
    docString: '',
    producerVersion: 'test',
    outputs: graph.outputs.map((index, k) => ({ index, name: `out${k}` })),
    metadata: [],
  });
}

const hasChecker = pythonOnnxAvailable();
if (!hasChecker) console.warn('onnx checker skipped: needs python3-onnx (/usr/bin/python3 -c "import onnx")');

/** Emit, check, run on onnxruntime-node with batch `n`, compare every output with the reference. */
async function expectParity(graph: Graph, n = 2, lowering?: Partial<OnnxLoweringOptions>): Promise<ModelProto> {
  const proto = model(graph, lowering);
  const bytes = encodeModel(proto);
  if (hasChecker) expect(checkOnnx(bytes)).toMatchObject({ ok: true });
  const input = graph.tensors[graph.inputs[0]!]!;
  const [, h, w, c] = input.shape as [number, number, number, number];
  const data = randomArray(n * h * w * c, 7);
  const ref = runReferenceTensors(graph, { data, shape: [n, h, w, c] });
  const session = await ort.InferenceSession.create(bytes);
  try {
    const results = await session.run({ input: new ort.Tensor('float32', data, [n, h, w, c]) });
    graph.outputs.forEach((index, k) => {
      const got = results[`out${k}`]!;
      const want = ref.get(index)!;
      expect(got.dims).toEqual(want.shape);
      const p = parity(got.data as Float32Array, want.data);
      expect(p.maxScaled, `${graph.tensors[index]!.name}: ${JSON.stringify(p)}`).toBeLessThanOrEqual(1e-5);
    });
  } finally {
    await session.release();
  }
  return proto;
}

function opTypes(proto: ModelProto): string[] {
  return proto.graph.node.map((n) => n.op_type);
}

describe('ONNX lowering helpers', () => {
  it('computes TFLite SAME padding with the odd pixel after', () => {
    expect(samePadding(7, 3, 2, 1)).toEqual([1, 1]);
    expect(samePadding(8, 3, 2, 1)).toEqual([0, 1]);
    expect(samePadding(6, 4, 1, 1)).toEqual([1, 2]);
    expect(samePadding(5, 1, 2, 1)).toEqual([0, 0]);
  });

  it('picks resize scales whose floor(in * scale) is exactly the output size', () => {
    for (const [i, o] of [[3, 7], [5, 8], [7, 11], [16, 32], [10, 3]] as const) {
      const s = scaleFor(i, o);
      expect(Math.fround(s)).toBe(s);
      expect(Math.floor(i * s)).toBe(o);
      expect(Math.floor(Math.fround(i * s))).toBe(o);
    }
  });
});

describe('ONNX lowerings vs the reference runtime (onnxruntime-node, batch 2)', () => {
  it('CONV_2D stride 2 SAME with odd padding, RELU6 fused; 4x4 kernel with odd total padding', async () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 7, 6, 3]);
    const y = g.conv(x, [1, 4, 3, 5], [3, 3], 2, 'SAME', 'RELU6');
    const z = g.conv(y, [1, 4, 3, 4], [4, 4], 1, 'SAME', 'RELU');
    const graph = g.build(x, [z]);
    const proto = await expectParity(graph, 2, { inputRows: false });
    expect(opTypes(proto)).toEqual(['Transpose', 'Conv', 'Clip', 'Conv', 'Relu', 'Transpose']);
    // Asymmetric pads: [top, left, bottom, right] = [1, 1, 2, 2] for a 4x4 kernel at stride 1.
    const conv2 = proto.graph.node.filter((n) => n.op_type === 'Conv')[1]!;
    expect(conv2.attribute.find((a) => a.name === 'pads')!.ints).toEqual([1, 1, 2, 2]);
    // inputRows (the fast path): the NHWC input read as [N,1,7,18] rows by the first conv, no Transpose in.
    for (const n of [1, 3]) {
      const rows = await expectParity(graph, n);
      expect(opTypes(rows)).toEqual(['Reshape', 'Conv', 'Clip', 'Conv', 'Relu', 'Transpose']);
      const conv1 = rows.graph.node.find((n) => n.op_type === 'Conv')!;
      const attr = (k: string) => conv1.attribute.find((a) => a.name === k)!.ints;
      // SAME at stride 2 on 7x6: pads [top, left, bottom, right] = [1, 0, 1, 1] pixels; horizontally x 3 channels.
      expect([attr('kernel_shape'), attr('strides'), attr('pads')]).toEqual([[3, 9], [2, 6], [1, 0, 1, 3]]);
    }
  });

  it('DEPTHWISE_CONV_2D with depth multiplier 2 (grouped Conv), VALID stride 2', async () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 9, 8, 3]);
    const y = g.depthwise(x, [1, 9, 8, 6], 5, 1, 'SAME', 2, 'RELU');
    const z = g.depthwise(y, [1, 4, 3, 6], 3, 2, 'VALID');
    const proto = await expectParity(g.build(x, [z]));
    const conv = proto.graph.node.find((n) => n.op_type === 'Conv')!;
    expect(conv.attribute.find((a) => a.name === 'group')!.i).toBe(3);
  });

  it('BlazeBlock stride 2: spatial PAD folded into the depthwise conv, channel PAD, MAX_POOL_2D, ADD+RELU', async () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 8, 8, 4]);
    const padded = g.tensor('padded', [1, 9, 9, 4]);
    g.op({ type: 'PAD', inputs: [x], outputs: [padded], paddings: [[0, 0], [0, 1], [0, 1], [0, 0]] });
    const dw = g.depthwise(padded, [1, 4, 4, 4], 3, 2, 'VALID');
    const pw = g.conv(dw, [1, 4, 4, 6], [1, 1], 1, 'VALID');
    const pooled = g.tensor('pooled', [1, 4, 4, 4]);
    g.op({ type: 'MAX_POOL_2D', inputs: [x], outputs: [pooled], padding: 'SAME', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE' });
    const grown = g.tensor('grown', [1, 4, 4, 6]);
    g.op({ type: 'PAD', inputs: [pooled], outputs: [grown], paddings: [[0, 0], [0, 0], [0, 0], [0, 2]] });
    const sum = g.tensor('sum', [1, 4, 4, 6]);
    g.op({ type: 'ADD', inputs: [pw, grown], outputs: [sum], activation: 'RELU' });
    const graph = g.build(x, [sum]);
    expect([...findPadFolds(graph).keys()]).toEqual([1]);
    const proto = await expectParity(graph);
    // The channel PAD is an identity 1x1 Conv (stays in ORT's NCHWc layout); as a Pad node on request.
    expect(opTypes(proto).filter((t) => t === 'Pad')).toHaveLength(0);
    expect(proto.graph.node.filter((n) => n.name.endsWith('/channel_pad'))).toHaveLength(1);
    expect(opTypes(await expectParity(graph, 2, { channelPad: 'pad' })).filter((t) => t === 'Pad')).toHaveLength(1);
    const dwConv = proto.graph.node.find((n) => n.name === 'op1/conv')!;
    expect(dwConv.attribute.find((a) => a.name === 'pads')!.ints).toEqual([0, 0, 1, 1]);
  });

  it('widened channels: two BlazeBlocks carried at 16 channels, the first channel PAD vanishes, outputs exact', async () => {
    // input 3ch -> conv 6ch (widened to 16) -> block 6->10 (both 16: the PAD becomes nothing) -> block
    // 10->20 with stride 2 (16 -> 32: identity conv) -> 1x1 head (exact 5ch, graph output).
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 8, 8, 3]);
    const stem = g.conv(x, [1, 8, 8, 6], [3, 3], 1, 'SAME', 'RELU');
    const block = (inp: number, cin: number, cout: number, size: number, stride: number): number => {
      const o = size / stride;
      const dw = g.depthwise(inp, [1, o, o, cin], 3, stride, 'SAME');
      const pw = g.conv(dw, [1, o, o, cout], [1, 1], 1, 'VALID');
      let skip = inp;
      if (stride === 2) {
        skip = g.tensor(`pool${inp}`, [1, o, o, cin]);
        g.op({ type: 'MAX_POOL_2D', inputs: [inp], outputs: [skip], padding: 'SAME', strideH: 2, strideW: 2, filterH: 2, filterW: 2, activation: 'NONE' });
      }
      const grown = g.tensor(`grown${inp}`, [1, o, o, cout]);
      g.op({ type: 'PAD', inputs: [skip], outputs: [grown], paddings: [[0, 0], [0, 0], [0, 0], [0, cout - cin]] });
      const sum = g.tensor(`sum${inp}`, [1, o, o, cout]);
      g.op({ type: 'ADD', inputs: [grown, pw], outputs: [sum], activation: 'RELU' });
      return sum;
    };
    const b1 = block(stem, 6, 10, 8, 1);
    const b2 = block(b1, 10, 20, 8, 2);
    const head = g.conv(b2, [1, 4, 4, 5], [1, 1], 1, 'VALID');
    const graph = g.build(x, [head]);
    const widths = planChannelWidths(graph, 16);
    expect(widths.get(stem)).toBe(16);
    expect(widths.get(b1)).toBe(16);
    expect(widths.get(b2)).toBe(32);
    expect(widths.has(head)).toBe(false);
    expect(widths.has(x)).toBe(false);
    for (const lowering of [{ channelAlign: 16, channelPad: 'conv' }, { channelAlign: 16, channelPad: 'pad' }, { channelAlign: 0, channelPad: 'pad' }, { channelAlign: 8, channelPad: 'conv' }] as const) {
      const proto = await expectParity(graph, 3, lowering);
      const pads = proto.graph.node.filter((n) => n.op_type === 'Pad' || n.name.endsWith('/channel_pad')).length;
      // align 16: 6->10 carried as 16->16 (no node), 10->20 as 16->32 (one node); exact: two nodes.
      expect(pads, JSON.stringify(lowering)).toBe(lowering.channelAlign === 16 ? 1 : 2);
    }
    // The widened stem conv stores a [16,3,3,3] kernel whose extra rows are zero.
    const proto = model(graph, { channelAlign: 16, inputRows: false });
    const stemConv = proto.graph.node.find((n) => n.name === 'op0/conv')!;
    const kernel = proto.graph.initializer.find((t) => t.name === stemConv.input[1])!;
    expect(kernel.dims).toEqual([16, 3, 3, 3]);
    const values = new Float32Array(kernel.raw_data!.slice().buffer);
    expect(values.subarray(6 * 27).every((v) => v === 0)).toBe(true);
    expect(values.subarray(0, 6 * 27).some((v) => v !== 0)).toBe(true);
  });

  it('split residual: ADD(PAD(x), conv) [+RELU] becomes the conv split by output rows, the Sum on the first half, and a Concat', async () => {
    for (const separateRelu of [true, false]) {
      // stem 3->16 (16 wide, exact) -> block 16->24 (carried 32): the PAD grows 16 -> 32 channels.
      const g = new GraphBuilder();
      const x = g.tensor('input', [1, 6, 6, 3]);
      const stem = g.conv(x, [1, 6, 6, 16], [3, 3], 1, 'SAME', 'RELU');
      const dw = g.depthwise(stem, [1, 6, 6, 16], 3, 1, 'SAME');
      const pw = g.conv(dw, [1, 6, 6, 24], [1, 1], 1, 'VALID');
      const grown = g.tensor('grown', [1, 6, 6, 24]);
      g.op({ type: 'PAD', inputs: [stem], outputs: [grown], paddings: [[0, 0], [0, 0], [0, 0], [0, 8]] });
      let sum = g.tensor('sum', [1, 6, 6, 24]);
      g.op({ type: 'ADD', inputs: [grown, pw], outputs: [sum], activation: separateRelu ? 'NONE' : 'RELU' });
      if (separateRelu) {
        const relu = g.tensor('relu', [1, 6, 6, 24]);
        g.op({ type: 'RELU', inputs: [sum], outputs: [relu] });
        sum = relu;
      }
      const head = g.conv(sum, [1, 6, 6, 5], [1, 1], 1, 'VALID');
      const graph = g.build(x, [head]);
      expect(planChannelWidths(graph, 16).get(sum)).toBe(32);
      for (const n of [1, 3]) await expectParity(graph, n, { channelAlign: 16, channelPad: 'split' });
      const proto = model(graph, { channelAlign: 16, channelPad: 'split' });
      expect(opTypes(proto).filter((t) => t === 'Pad')).toHaveLength(0);
      expect(proto.graph.node.filter((n) => n.name.endsWith('/channel_pad'))).toHaveLength(0);
      const concat = proto.graph.node.filter((n) => n.op_type === 'Concat');
      expect(concat).toHaveLength(1);
      expect(concat[0]!.attribute.find((a) => a.name === 'axis')!.i).toBe(1);
      const dims = (name: string) => proto.graph.initializer.find((t) => t.name === proto.graph.node.find((n) => n.name === name)!.input[1])!.dims;
      expect(dims('op2/conv_0_16')).toEqual([16, 16, 1, 1]);
      expect(dims('op2/conv_16_32')).toEqual([16, 16, 1, 1]);
      // Add only on the first half; one Relu per half (plus the stem's).
      expect(opTypes(proto).filter((t) => t === 'Add')).toHaveLength(1);
      expect(opTypes(proto).filter((t) => t === 'Relu')).toHaveLength(3);
      // Exact channels (16 -> 24, no block alignment to keep) fall back to the identity conv.
      const exact = model(graph, { channelAlign: 0, channelPad: 'split' });
      expect(exact.graph.node.filter((n) => n.op_type === 'Concat')).toHaveLength(0);
      expect(exact.graph.node.filter((n) => n.name.endsWith('/channel_pad'))).toHaveLength(1);
      await expectParity(graph, 2, { channelAlign: 0, channelPad: 'split' });
    }
  });

  it('withFixedBatch pins N to 1 in the inputs and outputs only, and the result runs', async () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 5, 5, 3]);
    const y = g.conv(x, [1, 5, 5, 4], [3, 3], 1, 'SAME', 'RELU');
    const graph = g.build(x, [y]);
    const bytes = encodeModel(model(graph));
    const fixed = decodeModel(withFixedBatch(bytes, 1));
    const dims = (v: (typeof fixed.graph.input)[number]) => v.type.tensor_type.shape.dim.map((d) => ('dim_param' in d ? d.dim_param : d.dim_value));
    expect(fixed.graph.input.map(dims)).toEqual([[1, 5, 5, 3]]);
    expect(fixed.graph.output.map(dims)).toEqual([[1, 5, 5, 4]]);
    expect(fixed.graph.node).toEqual(decodeModel(bytes).graph.node);
    const session = await ort.InferenceSession.create(withFixedBatch(bytes, 1));
    await expect(session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 75), [2, 5, 5, 3]) })).rejects.toThrow();
    await session.release();
    expect(() => withFixedBatch(withFixedBatch(bytes, 1), 1)).toThrow(OnnxEmitError);
  });

  it('widening stays off where channels must be exact: grouped conv, depth multiplier 2, concat, graph I/O', () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 4, 4, 3]);
    const a = g.conv(x, [1, 4, 4, 6], [1, 1], 1, 'VALID');
    const m = g.depthwise(a, [1, 4, 4, 12], 3, 1, 'SAME', 2);
    const c = g.conv(x, [1, 4, 4, 5], [1, 1], 1, 'VALID');
    const cat = g.tensor('cat', [1, 4, 4, 17]);
    g.op({ type: 'CONCATENATION', inputs: [m, c], outputs: [cat], axis: 3, activation: 'NONE' });
    const widths = planChannelWidths(g.build(x, [cat]), 16);
    expect([...widths.keys()]).toEqual([]);
  });

  it('MAX_POOL_2D SAME on odd sizes ignores the padded cells', async () => {
    const g = new GraphBuilder();
    // H: total padding (3-1)*2 + 3 - 6 = 1, odd: the extra row must go to the bottom.
    const x = g.tensor('input', [1, 6, 7, 2]);
    const y = g.tensor('pool', [1, 3, 3, 2]);
    g.op({ type: 'MAX_POOL_2D', inputs: [x], outputs: [y], padding: 'SAME', strideH: 2, strideW: 3, filterH: 3, filterW: 3, activation: 'NONE' });
    const relu = g.tensor('neg', [1, 3, 3, 2]);
    g.op({ type: 'RELU', inputs: [y], outputs: [relu] });
    await expectParity(g.build(x, [y, relu]));
  });

  for (const [label, alignCorners, halfPixelCenters] of [
    ['align_corners', true, false],
    ['half_pixel_centers', false, true],
    ['asymmetric (neither flag)', false, false],
  ] as const) {
    it(`RESIZE_BILINEAR ${label}: 2x and a non-integer ratio`, async () => {
      const g = new GraphBuilder();
      const x = g.tensor('input', [1, 5, 7, 3]);
      const up2 = g.tensor('up2', [1, 10, 14, 3]);
      g.op({ type: 'RESIZE_BILINEAR', inputs: [x], outputs: [up2], size: [10, 14], alignCorners, halfPixelCenters });
      const odd = g.tensor('odd', [1, 8, 11, 3]);
      g.op({ type: 'RESIZE_BILINEAR', inputs: [x], outputs: [odd], size: [8, 11], alignCorners, halfPixelCenters });
      const proto = await expectParity(g.build(x, [up2, odd]));
      const resize = proto.graph.node.find((n) => n.op_type === 'Resize')!;
      const mode = new TextDecoder().decode(resize.attribute.find((a) => a.name === 'coordinate_transformation_mode')!.s);
      expect(mode).toBe(alignCorners ? 'align_corners' : halfPixelCenters ? 'half_pixel' : 'asymmetric');
    });
  }

  it('DEPTH_TO_SPACE block 2 (DCR order)', async () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 3, 4, 12]);
    const y = g.tensor('d2s', [1, 6, 8, 3]);
    g.op({ type: 'DEPTH_TO_SPACE', inputs: [x], outputs: [y], blockSize: 2 });
    const z = g.conv(y, [1, 6, 8, 2], [3, 3], 1, 'SAME');
    await expectParity(g.build(x, [z]));
  });

  it('SSD head: conv (NHWC) -> RESHAPE [1,A,k] -> CONCATENATION axis 1 keeps TFLite element order', async () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 4, 4, 5]);
    const small = g.conv(x, [1, 2, 2, 5], [3, 3], 2, 'SAME');
    const headA = g.conv(x, [1, 4, 4, 8], [1, 1], 1, 'VALID');
    const headB = g.conv(small, [1, 2, 2, 12], [1, 1], 1, 'VALID');
    const ra = g.tensor('ra', [1, 32, 4]);
    g.op({ type: 'RESHAPE', inputs: [headA], outputs: [ra], newShape: [1, -1, 4] });
    const rb = g.tensor('rb', [1, 12, 4]);
    g.op({ type: 'RESHAPE', inputs: [headB], outputs: [rb], newShape: [1, 12, 4] });
    const cat = g.tensor('cat', [1, 44, 4]);
    g.op({ type: 'CONCATENATION', inputs: [ra, rb], outputs: [cat], axis: 1, activation: 'NONE' });
    // A channel concat of 4-D maps runs in NCHW (axis 3 -> 1).
    const both = g.tensor('both', [1, 2, 2, 17]);
    g.op({ type: 'CONCATENATION', inputs: [small, headB], outputs: [both], axis: 3, activation: 'NONE' });
    const proto = await expectParity(g.build(x, [cat, both]), 3);
    const reshape = proto.graph.node.filter((n) => n.op_type === 'Reshape');
    expect(reshape).toHaveLength(2);
    const shapes = proto.graph.initializer.filter((t) => reshape.some((r) => r.input[1] === t.name));
    for (const s of shapes) expect(Number(new DataView(s.raw_data.buffer, s.raw_data.byteOffset).getBigInt64(0, true))).toBe(0);
    const concats = proto.graph.node.filter((n) => n.op_type === 'Concat').map((n) => n.attribute[0]!.i);
    expect(concats).toEqual([1, 1]);
  });

  it('refuses what a dynamic batch cannot express, naming the file and operator', () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 2, 2, 3]);
    const flat = g.tensor('flat', [12]);
    g.op({ type: 'RESHAPE', inputs: [x], outputs: [flat], newShape: [-1] });
    expect(() => model(g.build(x, [flat]))).toThrow(OnnxEmitError);
    expect(() => model(g.build(x, [flat]))).toThrow(/synthetic\.tflite: operator #0 RESHAPE \[1,2,2,3\] -> \[12\]/);
  });

  it('checks the IR output shape against what ONNX would compute', () => {
    const g = new GraphBuilder();
    const x = g.tensor('input', [1, 7, 6, 3]);
    // SAME at stride 2 gives 4x3, not the declared 3x3.
    const y = g.conv(x, [1, 3, 3, 5], [3, 3], 2, 'SAME');
    expect(() => model(g.build(x, [y]))).toThrow(/ONNX output would be 4x3/);
  });
});

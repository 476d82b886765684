// PyTorch emitter: naming table, zip container, pickle, determinism, layout checks; and, when Python with
// torch (and the seed folder) are present, torch.load / strict load_state_dict and key/shape equality with
// the seed's own .pth files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython, TORCH_HELPER } from '../src/backends/torch.js';
import { emitTorch, NoTorchArchitectureError, serializeStateDict, torchStateDict, TorchLayoutError } from '../src/emit/torch/emit.js';
import { pickle, py } from '../src/emit/torch/pickle.js';
import { FIXED_DOS_DATE, TORCH_PADDING_HEADER_ID } from '../src/emit/torch/zip.js';
import { seedDir } from '../src/fixtures.js';
import type { Graph, Op } from '../src/ir/graph.js';
import { PRESETS } from '../src/presets/index.js';
import { TORCH_NAMING, torchParams, toTorchLayout } from '../src/presets/torch-naming.js';
import { loadTfliteFile } from '../src/tflite/reader.js';
import { readZip, runPython, syntheticGraph, unpickle, type Unpickled } from './torch-helpers.js';
import { printTorchNameMap } from '../notebooks-equivalents/convert-torch-map.js';

const SHORT_RANGE = path.resolve('node_modules/@mediapipe/face_detection/face_detection_short_range.tflite');
const SEED = seedDir();
const PY = await findTorchPython();
const PYTHON = 'executable' in PY ? PY.executable : null;
const PY_SKIP = PYTHON ? '' : ` (skipped: ${'reason' in PY ? PY.reason : ''})`;

function le32(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const v = new DataView(out.buffer);
  data.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return out;
}

describe('torch naming table', () => {
  it('has the seed key counts and unique keys', () => {
    const front = torchParams(TORCH_NAMING.front);
    const back = torchParams(TORCH_NAMING.back);
    expect(front).toHaveLength(74);
    expect(back).toHaveLength(138);
    for (const list of [front, back]) expect(new Set(list.map((p) => p.key)).size).toBe(list.length);
    expect(front[0]).toMatchObject({ key: 'backbone1.0.weight', shape: [24, 3, 5, 5] });
    expect(front.at(-2)).toMatchObject({ key: 'regressor_16.weight', shape: [96, 96, 1, 1] });
    expect(back.find((p) => p.key === 'final.convs.0.weight')?.shape).toEqual([96, 1, 3, 3]);
  });

  it('feeds every layer from a distinct IR conv position, 0..n-1', () => {
    for (const naming of Object.values(TORCH_NAMING)) {
      const positions = naming.layers.map((l) => l.irConv).sort((a, b) => a - b);
      expect(positions).toEqual(naming.layers.map((_, i) => i));
    }
  });

  it('moves the TFLite channel axis to position 1 (conv [O,H,W,I] -> [O,I,H,W], depthwise [1,H,W,C] -> [C,1,H,W])', () => {
    // conv O=2,H=1,W=2,I=3: value = 100*o + 10*w + i
    const conv = Float32Array.from([0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
    expect(Array.from(toTorchLayout('conv', [2, 1, 2, 3], conv))).toEqual([0, 10, 1, 11, 2, 12, 100, 110, 101, 111, 102, 112]);
    // depthwise H=2,W=1,C=3: value = 10*h + c
    const dw = Float32Array.from([0, 1, 2, 10, 11, 12]);
    expect(Array.from(toTorchLayout('depthwise', [1, 2, 1, 3], dw))).toEqual([0, 10, 1, 11, 2, 12]);
    expect(() => toTorchLayout('depthwise', [2, 1, 1, 3], new Float32Array(6))).toThrow(/depth multiplier/);
  });
});

describe('pickle writer', () => {
  it('round-trips the value kinds it supports through an independent decoder', () => {
    const od = py.global('collections', 'OrderedDict');
    const bytes = pickle(
      py.call(od, [], [
        [py.str('a'), py.tuple(py.int(0), py.int(255), py.int(256), py.int(65536), py.int(-1), py.int(2 ** 40), py.int(-(2n ** 70n)))],
        [py.str('b'), py.tuple(py.bool(false), py.bool(true), py.none(), py.float(0.5), py.str('héllo'))],
        [py.str('c'), py.tuple(py.str('a'), py.str('a'), py.tuple())],
      ]),
    );
    const m = unpickle(bytes) as Map<string, Unpickled>;
    expect([...m.keys()]).toEqual(['a', 'b', 'c']);
    expect(m.get('a')).toEqual([0, 255, 256, 65536, -1, 2n ** 40n, -(2n ** 70n)]);
    expect(m.get('b')).toEqual([false, true, null, 0.5, 'héllo']);
    expect(m.get('c')).toEqual(['a', 'a', []]);
  });

  it('uses more than 256 memo slots correctly (LONG_BINPUT/LONG_BINGET)', () => {
    const strs = Array.from({ length: 300 }, (_, i) => py.str(`k${i}`));
    const m = unpickle(pickle(py.tuple(...strs, ...strs))) as string[];
    expect(m).toHaveLength(600);
    expect(m[599]).toBe('k299');
  });
});

function checkPth(bytes: Uint8Array, expected: { key: string; shape: readonly number[]; data: Float32Array }[], archive = 'blazeface'): void {
  const records = readZip(bytes);
  const names = records.map((r) => r.name);
  const storageNames = expected.map((_, i) => `${archive}/data/${i}`).sort();
  expect(names).toEqual([`${archive}/data.pkl`, `${archive}/byteorder`, ...storageNames, `${archive}/version`]);
  for (const r of records) {
    expect(r.dataOffset % 64, `${r.name} data offset ${r.dataOffset}`).toBe(0);
    expect(r.method).toBe(0);
    expect(r.dosDate).toBe(FIXED_DOS_DATE);
    const extra = new DataView(r.localExtra.buffer, r.localExtra.byteOffset, r.localExtra.byteLength);
    expect(extra.getUint16(0, true)).toBe(TORCH_PADDING_HEADER_ID);
    expect(extra.getUint16(2, true)).toBe(r.localExtra.length - 4);
  }
  const byName = new Map(records.map((r) => [r.name, r.data]));
  expect(new TextDecoder().decode(byName.get(`${archive}/version`))).toBe('3\n');
  expect(new TextDecoder().decode(byName.get(`${archive}/byteorder`))).toBe('little');

  const dict = unpickle(byName.get(`${archive}/data.pkl`)!) as Map<string, Unpickled>;
  expect(dict).toBeInstanceOf(Map);
  expect([...dict.keys()]).toEqual(expected.map((e) => e.key));
  expected.forEach((e, i) => {
    const t = dict.get(e.key) as { rebuildTensor: Unpickled[] };
    const [storage, offset, size, stride, requiresGrad, hooks] = t.rebuildTensor;
    const numel = e.shape.reduce((a, b) => a * b, 1);
    expect((storage as { persistent: Unpickled }).persistent).toEqual(['storage', { global: 'torch.FloatStorage' }, String(i), 'cpu', numel]);
    expect(offset).toBe(0);
    expect(size).toEqual([...e.shape]);
    const strides = e.shape.map((_, d) => e.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    expect(stride).toEqual(strides);
    expect(requiresGrad).toBe(false);
    expect(hooks).toBeInstanceOf(Map);
    expect(Buffer.from(byName.get(`${archive}/data/${i}`)!).equals(Buffer.from(le32(e.data))), `${e.key} bytes`).toBe(true);
  });
}

describe('emitTorch on synthetic graphs (pure TypeScript)', () => {
  for (const arch of ['front', 'back'] as const) {
    const preset = PRESETS[arch];
    it(`${arch}: maps every conv onto the table and writes a well-formed, aligned, CRC-checked .pth`, () => {
      const graph = syntheticGraph(arch);
      const sd = torchStateDict(graph, preset);
      expect(sd.map((t) => [t.key, t.shape])).toEqual(torchParams(TORCH_NAMING[arch]).map((p) => [p.key, p.shape]));
      // the weight of each entry is the named IR constant, re-laid out
      for (const t of sd) expect(t.irTensor.name.startsWith(t.key.replace(/\.(weight|bias)$/, ''))).toBe(true);
      checkPth(emitTorch(graph, preset), sd);
    });

    it(`${arch}: is deterministic (same graph, or an identical rebuilt one, gives identical bytes)`, () => {
      const a = emitTorch(syntheticGraph(arch, 3), preset);
      const b = emitTorch(syntheticGraph(arch, 3), preset);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      const c = emitTorch(syntheticGraph(arch, 4), preset);
      expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    });
  }

  it('honours a custom archive folder name', () => {
    const sd = torchStateDict(syntheticGraph('front'), PRESETS.front);
    checkPth(serializeStateDict(sd, 'model'), sd, 'model');
  });

  it('refuses presets without a PyTorch architecture, naming the preset', () => {
    const graph = syntheticGraph('front');
    expect(() => emitTorch(graph, PRESETS.full_range)).toThrow(NoTorchArchitectureError);
    expect(() => emitTorch(graph, PRESETS.full_range)).toThrow(/no PyTorch architecture for full_range.*no \.pth for full_range/);
  });

  it('refuses a graph of the other layout', () => {
    expect(() => emitTorch(syntheticGraph('back'), PRESETS.front)).toThrow(TorchLayoutError);
  });

  it('checks head wiring: swapped concatenation inputs are reported', () => {
    const g = syntheticGraph('front');
    const ops = g.ops.map((o): Op => (o.type === 'CONCATENATION' && g.tensors[o.outputs[0]!]!.name === 'classificators' ? { ...o, inputs: [...o.inputs].reverse() } : o));
    const swapped: Graph = { ...g, ops };
    expect(() => emitTorch(swapped, PRESETS.front)).toThrow(/classifier_8: op #\d+ is input 1 of the classificators concatenation, expected 0/);
  });

  it('checks strides and fused activations', () => {
    const g = syntheticGraph('front');
    const firstDw = g.ops.findIndex((o) => o.type === 'DEPTHWISE_CONV_2D');
    const strided: Graph = { ...g, ops: g.ops.map((o, i) => (i === firstDw ? { ...o, strideH: 2, strideW: 2 } as Op : o)) };
    expect(() => emitTorch(strided, PRESETS.front)).toThrow(/backbone1\.2\.convs\.0 <- op #\d+ DEPTHWISE_CONV_2D: stride 2x2, expected 1/);
    const fused: Graph = { ...g, ops: g.ops.map((o, i) => (i === firstDw ? { ...o, activation: 'RELU' } as Op : o)) };
    expect(() => emitTorch(fused, PRESETS.front)).toThrow(/fused RELU/);
  });
});

describe('emitTorch on face_detection_short_range.tflite', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await loadTfliteFile(SHORT_RANGE);
  });

  it('maps the 37 conv/depthwise ops 1:1 onto the front keys, heads included', () => {
    const convs = graph.ops.filter((o) => o.type === 'CONV_2D' || o.type === 'DEPTHWISE_CONV_2D');
    expect(convs).toHaveLength(37);
    const sd = torchStateDict(graph, PRESETS.short_range);
    expect(sd).toHaveLength(74);
    const heads = Object.fromEntries(sd.filter((t) => /^(classifier|regressor)_\d+\.weight$/.test(t.key)).map((t) => [t.key, t.irTensor.name]));
    expect(heads).toEqual({
      'classifier_8.weight': expect.stringMatching(/^classificator_8\//),
      'classifier_16.weight': expect.stringMatching(/^classificator_16\//),
      'regressor_8.weight': expect.stringMatching(/^regressor_8\//),
      'regressor_16.weight': expect.stringMatching(/^regressor_16\//),
    });
    // float16 weights were folded to float32 by the reader; the .pth stores float32
    checkPth(emitTorch(graph, PRESETS.short_range), sd);
  });

  it('is byte-identical across runs', async () => {
    const again = await loadTfliteFile(SHORT_RANGE);
    expect(Buffer.from(emitTorch(graph, PRESETS.short_range)).equals(Buffer.from(emitTorch(again, PRESETS.short_range)))).toBe(true);
  });

  it('printTorchNameMap prints one line per tensor and saves the .pth', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'torch-map-'));
    try {
      const lines: string[] = [];
      const out = path.join(dir, 'blazeface.pth');
      const r = await printTorchNameMap(graph, PRESETS.short_range, out, (l) => lines.push(l));
      expect(r.lines).toHaveLength(75);
      expect(lines.find((l) => l.includes('-> classifier_8.weight (2, 88, 1, 1)'))).toMatch(/classificator_8\/\S* \(2, 1, 1, 88\)/);
      expect(existsSync(out)).toBe(true);
      expect(Buffer.from(r.bytes).equals(Buffer.from(emitTorch(graph, PRESETS.short_range)))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

type KeyInfo = { key: string; shape: number[]; dtype: string };
type LoadCheck = { ok: boolean; arch: string; tensors: number; ordered: boolean };

describe.skipIf(!PYTHON)(`with Python + torch${PY_SKIP}`, () => {
  let dir: string;
  // One interpreter per command for all files: importing torch dominates the cost.
  let keys: KeyInfo[][];
  let checks: LoadCheck[];
  const seedFront = SEED ? path.join(SEED, 'blazeface.pth') : null;
  const seedBack = SEED ? path.join(SEED, 'blazefaceback.pth') : null;

  const helper = async (...args: string[]): Promise<string[]> => {
    const r = await runPython(PYTHON!, [TORCH_HELPER, ...args]);
    if (r.code !== 0) throw new Error(`blazeface_torch.py ${args[0]} failed: ${r.stderr}`);
    return r.stdout.toString().trim().split('\n');
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'torch-emit-'));
    const sr = path.join(dir, 'short_range.pth');
    const back = path.join(dir, 'back.pth');
    await writeFile(sr, emitTorch(await loadTfliteFile(SHORT_RANGE), PRESETS.short_range));
    await writeFile(back, emitTorch(syntheticGraph('back'), PRESETS.back));
    const files = [sr, back, ...(SEED ? [seedFront!, seedBack!] : [])];
    keys = (await helper('keys', ...files)).map((l) => JSON.parse(l) as KeyInfo[]);
    const pairs = [sr, 'front', back, 'back', ...(SEED ? [seedFront!, 'front', seedBack!, 'back'] : [])];
    checks = (await helper('load-check', ...pairs)).map((l) => JSON.parse(l) as LoadCheck);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('torch.load + strict load_state_dict accept the emitted short_range .pth', () => {
    expect(checks[0]).toMatchObject({ ok: true, arch: 'front', tensors: 74, ordered: true });
    expect(keys[0]!.map((k) => k.dtype)).toEqual(new Array(74).fill('float32'));
    expect(keys[0]!.map((k) => [k.key, k.shape])).toEqual(torchParams(TORCH_NAMING.front).map((p) => [p.key, p.shape]));
  });

  it('torch.load + strict load_state_dict accept a synthetic back .pth', () => {
    expect(checks[1]).toMatchObject({ ok: true, arch: 'back', tensors: 138, ordered: true });
  });

  it('strict loading rejects a .pth of the wrong layout', async () => {
    const file = path.join(dir, 'front-as-back.pth');
    await writeFile(file, emitTorch(syntheticGraph('front'), PRESETS.front));
    await expect(helper('load-check', file, 'back')).rejects.toThrow(/Missing key|Unexpected key|size mismatch/);
  });

  describe.skipIf(!SEED)(`against the seed's .pth files${SEED ? '' : ' (skipped: /work/shared/seed not found)'}`, () => {
    it('emitted short_range keys, shapes, dtypes and order equal blazeface.pth (front)', () => {
      const seed = keys[2]!;
      expect(seed).toHaveLength(74);
      expect(keys[0]).toEqual(seed);
      expect(torchParams(TORCH_NAMING.front).map((p) => ({ key: p.key, shape: p.shape, dtype: 'float32' }))).toEqual(seed);
      expect(checks[2]).toMatchObject({ ok: true, arch: 'front', tensors: 74 });
    });

    it('the back naming table equals blazefaceback.pth, and the module loads it strictly', () => {
      const seed = keys[3]!;
      expect(seed).toHaveLength(138);
      expect(torchParams(TORCH_NAMING.back).map((p) => ({ key: p.key, shape: p.shape, dtype: 'float32' }))).toEqual(seed);
      expect(keys[1]).toEqual(seed);
      expect(checks[3]).toMatchObject({ ok: true, arch: 'back', tensors: 138 });
    });
  });
});

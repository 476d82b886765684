// PyTorch emitter: Graph -> the bytes `torch.save(model.state_dict(), "blazeface.pth")` writes (zip
// serialization): <archive>/data.pkl (an OrderedDict of key -> torch._utils._rebuild_tensor_v2(...), one
// persistent storage per tensor), <archive>/byteorder, <archive>/data/<key> (raw little-endian float32),
// <archive>/version. Which IR tensor feeds which key is data (src/presets/torch-naming.ts); this file only
// checks that the graph matches that table and lays the weights out as PyTorch expects.
import { ToolkitError } from '../../errors.js';
import { detectorOutputs, imageInput, type Graph, type Op, type Tensor } from '../../ir/graph.js';
import {
  tfliteWeightShape,
  torchNamingFor,
  torchParams,
  toTorchLayout,
  type TorchLayer,
  type TorchNaming,
} from '../../presets/torch-naming.js';
import type { Preset } from '../../presets/types.js';
import { pickle, py, type PyValue } from './pickle.js';
import { writeStoredZip, type ZipEntry } from './zip.js';

/** The preset has no PyTorch module layout (only the seed's front and back have one). */
export class NoTorchArchitectureError extends ToolkitError {
  constructor(preset: Preset) {
    super(
      'NO_TORCH_ARCHITECTURE',
      `no PyTorch architecture for ${preset.name}: the seed's BlazeFace module has only the front and back layouts, so there is no .pth for ${preset.name}`,
    );
  }
}

/** The graph does not have the structure the preset's PyTorch layout expects. */
export class TorchLayoutError extends ToolkitError {}

/** One state_dict entry and where it came from. */
export interface TorchTensor {
  readonly key: string;
  /** PyTorch shape (NCHW kernel layouts). */
  readonly shape: readonly number[];
  /** Row-major data in `shape` order. */
  readonly data: Float32Array;
  /** The IR constant it was taken from, and the op that reads it. */
  readonly irTensor: Tensor;
  readonly irOp: Op;
}

/** torch.save names the archive folder after the file; our artifact is blazeface.pth. */
export const DEFAULT_ARCHIVE_NAME = 'blazeface';

type ConvLike = Extract<Op, { type: 'CONV_2D' | 'DEPTHWISE_CONV_2D' }>;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Check that a head conv's output reaches the named detector output through RESHAPE -> CONCATENATION at the expected slot. */
function checkHead(graph: Graph, op: ConvLike, layer: TorchLayer, fail: (msg: string) => never): void {
  const head = layer.head!;
  const target = detectorOutputs(graph)[head.output].index;
  const consumers = (tensor: number): Op[] => graph.ops.filter((o) => o.inputs.includes(tensor));
  const reshape = consumers(op.outputs[0]!);
  if (reshape.length !== 1 || reshape[0]!.type !== 'RESHAPE') {
    fail(`${layer.module}: op #${op.index} should feed exactly one RESHAPE, feeds ${reshape.map((o) => o.type).join(', ') || 'nothing'}`);
  }
  const concat = consumers(reshape[0]!.outputs[0]!);
  const c = concat[0];
  if (concat.length !== 1 || !c || c.type !== 'CONCATENATION' || c.outputs[0] !== target) {
    fail(`${layer.module}: op #${op.index} does not reach the ${head.output} output through RESHAPE -> CONCATENATION`);
  }
  const slot = c.inputs.indexOf(reshape[0]!.outputs[0]!);
  if (slot !== head.concatIndex) {
    fail(`${layer.module}: op #${op.index} is input ${slot} of the ${head.output} concatenation, expected ${head.concatIndex}`);
  }
}

/** Map the graph's conv weights onto the preset's state_dict keys, checking every op against the table. */
export function torchStateDict(graph: Graph, preset: Preset): TorchTensor[] {
  const naming: TorchNaming | null = torchNamingFor(preset);
  if (!naming) throw new NoTorchArchitectureError(preset);
  const file = graph.source.fileName;
  const fail = (msg: string): never => {
    throw new TorchLayoutError('TORCH_LAYOUT_MISMATCH', `${file}: not the '${naming.architecture}' PyTorch layout: ${msg}`, { file });
  };

  const input = imageInput(graph);
  if (!sameShape(input.shape.slice(1), [naming.inputSize, naming.inputSize, 3])) {
    fail(`input ${input.name} is ${fmt(input.shape)}, expected [N,${naming.inputSize},${naming.inputSize},3]`);
  }
  const convOps = graph.ops.filter((o): o is ConvLike => o.type === 'CONV_2D' || o.type === 'DEPTHWISE_CONV_2D');
  if (convOps.length !== naming.layers.length) {
    fail(`${convOps.length} CONV_2D/DEPTHWISE_CONV_2D ops, the layout has ${naming.layers.length} convolutions`);
  }

  const byLayer = new Map<TorchLayer, { op: ConvLike; weight: Float32Array; weightTensor: Tensor; bias: Float32Array; biasTensor: Tensor | null }>();
  for (const layer of naming.layers) {
    const op = convOps[layer.irConv];
    if (!op) fail(`${layer.module}: no conv op at position ${layer.irConv}`);
    const where = `${layer.module} <- op #${op!.index} ${op!.type}`;
    const expectedType = layer.kind === 'depthwise' ? 'DEPTHWISE_CONV_2D' : 'CONV_2D';
    if (op!.type !== expectedType) fail(`${where}: expected ${expectedType}`);
    if (op!.strideH !== layer.stride || op!.strideW !== layer.stride) fail(`${where}: stride ${op!.strideH}x${op!.strideW}, expected ${layer.stride}`);
    // The module pads like SAME; VALID is the same thing only for 1x1 stride-1 kernels.
    const paddingFree = layer.kernel === 1 && layer.stride === 1;
    if (op!.padding !== 'SAME' && !paddingFree) fail(`${where}: padding ${op!.padding}, the module pads like SAME`);
    if (op!.dilationH !== 1 || op!.dilationW !== 1) fail(`${where}: dilation is not 1`);
    if (op!.activation !== 'NONE') fail(`${where}: fused ${op!.activation}, the module applies its ReLUs separately`);
    if (op!.type === 'DEPTHWISE_CONV_2D' && op!.depthMultiplier !== 1) fail(`${where}: depth multiplier ${op!.depthMultiplier}`);

    const weightTensor = graph.tensors[op!.inputs[1]!];
    const expectedShape = tfliteWeightShape(layer);
    if (!weightTensor || !sameShape(weightTensor.shape, expectedShape)) {
      fail(`${where}: filter ${weightTensor ? `${weightTensor.name} ${fmt(weightTensor.shape)}` : 'missing'}, expected ${fmt(expectedShape)}`);
    }
    if (!(weightTensor!.data instanceof Float32Array)) fail(`${where}: filter ${weightTensor!.name} has no float32 constant data`);

    const biasIndex = op!.inputs[2];
    const biasTensor = biasIndex === undefined || biasIndex < 0 ? null : graph.tensors[biasIndex] ?? null;
    let bias: Float32Array;
    if (biasTensor) {
      if (!sameShape(biasTensor.shape, [layer.outChannels]) || !(biasTensor.data instanceof Float32Array)) {
        fail(`${where}: bias ${biasTensor.name} ${fmt(biasTensor.shape)} is not a float32 constant [${layer.outChannels}]`);
      }
      bias = biasTensor.data as Float32Array;
    } else {
      // The PyTorch convs all have biases; a conv without one is the same as a zero bias.
      bias = new Float32Array(layer.outChannels);
    }
    if (layer.head) checkHead(graph, op!, layer, fail);
    byLayer.set(layer, { op: op!, weight: weightTensor!.data as Float32Array, weightTensor: weightTensor!, bias, biasTensor });
  }

  return torchParams(naming).map((p) => {
    const src = byLayer.get(p.layer)!;
    if (p.role === 'weight') {
      return { key: p.key, shape: p.shape, data: toTorchLayout(p.layer.kind, src.weightTensor.shape, src.weight), irTensor: src.weightTensor, irOp: src.op };
    }
    return { key: p.key, shape: p.shape, data: Float32Array.from(src.bias), irTensor: src.biasTensor ?? src.weightTensor, irOp: src.op };
  });
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

function float32LittleEndian(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** Serialize named float32 tensors as torch.save(OrderedDict) does (zip format, one storage per tensor). */
export function serializeStateDict(
  tensors: readonly { readonly key: string; readonly shape: readonly number[]; readonly data: Float32Array }[],
  archiveName: string = DEFAULT_ARCHIVE_NAME,
): Uint8Array {
  const rebuild = py.global('torch._utils', '_rebuild_tensor_v2');
  const floatStorage = py.global('torch', 'FloatStorage');
  const orderedDict = py.global('collections', 'OrderedDict');
  const items: [PyValue, PyValue][] = tensors.map((t, i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new Error(`${t.key}: shape ${fmt(t.shape)} has ${numel} elements, data has ${t.data.length}`);
    // persistent id: ('storage', storage_type, key, location, numel), resolved by torch.load's persistent_load.
    const storage = py.persistent(py.tuple(py.str('storage'), floatStorage, py.str(String(i)), py.str('cpu'), py.int(numel)));
    const tensor = py.call(rebuild, [
      storage,
      py.int(0),
      py.tuple(...t.shape.map((d) => py.int(d))),
      py.tuple(...contiguousStrides(t.shape).map((d) => py.int(d))),
      py.bool(false),
      py.call(orderedDict, []), // backward hooks
    ]);
    return [py.str(t.key), tensor];
  });
  const dataPkl = pickle(py.call(orderedDict, [], items));

  // torch writes the storages sorted by key as strings ('0', '1', '10', ...); we do the same.
  const storageKeys = tensors.map((_, i) => String(i)).sort();
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const entries: ZipEntry[] = [
    { name: `${archiveName}/data.pkl`, data: dataPkl },
    { name: `${archiveName}/byteorder`, data: text('little') },
    ...storageKeys.map((k) => ({ name: `${archiveName}/data/${k}`, data: float32LittleEndian(tensors[Number(k)]!.data) })),
    { name: `${archiveName}/version`, data: text('3\n') },
  ];
  return writeStoredZip(entries, { alignment: 64 });
}

/** Graph -> blazeface.pth bytes for the preset's PyTorch layout; throws NoTorchArchitectureError when there is none. */
export function emitTorch(graph: Graph, preset: Preset, options: { archiveName?: string } = {}): Uint8Array {
  return serializeStateDict(torchStateDict(graph, preset), options.archiveName ?? DEFAULT_ARCHIVE_NAME);
}

// PyTorch state_dict naming of the seed's BlazeFace modules (BlazeFace-PyTorch's blazeface.py layout), as data.
// Written by hand from the seed's blazeface.pth (front, 74 tensors) and blazefaceback.pth (back, 138 tensors):
// each row is one Conv2d of the PyTorch module, in state_dict order, with the IR op that feeds it, given as
// its position among the graph's CONV_2D / DEPTHWISE_CONV_2D ops in execution order.
//
// For face_detection_short_range.tflite (front layout) the two orders coincide, heads included: TFLite runs
// classificator_8, classificator_16, regressor_8, regressor_16, which is also the state_dict order. The back
// rows assume the same convention (no back .tflite is available to check; the emitter validates shapes,
// strides and head wiring against whatever graph it is given, so a different order fails loudly).
import type { Preset } from './types.js';

export type TorchArchitecture = 'front' | 'back';
export type TorchLayerKind = 'conv' | 'depthwise';

export interface TorchHead {
  /** The detector output this head ends up in, through RESHAPE then CONCATENATION. */
  readonly output: 'regressors' | 'classificators';
  /** Its position among the CONCATENATION's inputs (the 16x16 head first, then the 8x8 one). */
  readonly concatIndex: number;
}

export interface TorchLayer {
  /** Module path; its parameters are `${module}.weight` and `${module}.bias`. */
  readonly module: string;
  readonly kind: TorchLayerKind;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  /** Position of the feeding op among the IR's CONV_2D/DEPTHWISE_CONV_2D ops, in op order. */
  readonly irConv: number;
  readonly head?: TorchHead;
}

export interface TorchNaming {
  readonly architecture: TorchArchitecture;
  /** Square input size the module expects. */
  readonly inputSize: number;
  readonly layers: readonly TorchLayer[];
}

/** One state_dict entry. */
export interface TorchParam {
  readonly key: string;
  /** PyTorch shape: conv [O,I,KH,KW], depthwise [C,1,KH,KW], bias [O]. */
  readonly shape: readonly number[];
  readonly role: 'weight' | 'bias';
  readonly layer: TorchLayer;
}

function conv(module: string, inChannels: number, outChannels: number, kernel: number, stride: number, irConv: number, head?: TorchHead): TorchLayer {
  return { module, kind: 'conv', inChannels, outChannels, kernel, stride, irConv, head };
}

/** A BlazeBlock: `convs.0` depthwise 3x3 (carries the stride), `convs.1` pointwise 1x1; fed by two consecutive IR ops. */
function block(module: string, inChannels: number, outChannels: number, stride: number, irDepthwise: number): TorchLayer[] {
  return [
    { module: `${module}.convs.0`, kind: 'depthwise', inChannels, outChannels: inChannels, kernel: 3, stride, irConv: irDepthwise },
    { module: `${module}.convs.1`, kind: 'conv', inChannels, outChannels, kernel: 1, stride: 1, irConv: irDepthwise + 1 },
  ];
}

const FRONT: TorchNaming = {
  architecture: 'front',
  inputSize: 128,
  layers: [
    conv('backbone1.0', 3, 24, 5, 2, 0),
    // backbone1.1 is the ReLU (no parameters).
    ...block('backbone1.2', 24, 24, 1, 1),
    ...block('backbone1.3', 24, 28, 1, 3),
    ...block('backbone1.4', 28, 32, 2, 5),
    ...block('backbone1.5', 32, 36, 1, 7),
    ...block('backbone1.6', 36, 42, 1, 9),
    ...block('backbone1.7', 42, 48, 2, 11),
    ...block('backbone1.8', 48, 56, 1, 13),
    ...block('backbone1.9', 56, 64, 1, 15),
    ...block('backbone1.10', 64, 72, 1, 17),
    ...block('backbone1.11', 72, 80, 1, 19),
    ...block('backbone1.12', 80, 88, 1, 21),
    ...block('backbone2.0', 88, 96, 2, 23),
    ...block('backbone2.1', 96, 96, 1, 25),
    ...block('backbone2.2', 96, 96, 1, 27),
    ...block('backbone2.3', 96, 96, 1, 29),
    ...block('backbone2.4', 96, 96, 1, 31),
    conv('classifier_8', 88, 2, 1, 1, 33, { output: 'classificators', concatIndex: 0 }),
    conv('classifier_16', 96, 6, 1, 1, 34, { output: 'classificators', concatIndex: 1 }),
    conv('regressor_8', 88, 32, 1, 1, 35, { output: 'regressors', concatIndex: 0 }),
    conv('regressor_16', 96, 96, 1, 1, 36, { output: 'regressors', concatIndex: 1 }),
  ],
};

const BACK: TorchNaming = {
  architecture: 'back',
  inputSize: 256,
  layers: [
    conv('backbone.0', 3, 24, 5, 2, 0),
    // backbone.1 is the ReLU.
    ...block('backbone.2', 24, 24, 1, 1),
    ...block('backbone.3', 24, 24, 1, 3),
    ...block('backbone.4', 24, 24, 1, 5),
    ...block('backbone.5', 24, 24, 1, 7),
    ...block('backbone.6', 24, 24, 1, 9),
    ...block('backbone.7', 24, 24, 1, 11),
    ...block('backbone.8', 24, 24, 1, 13),
    ...block('backbone.9', 24, 24, 2, 15),
    ...block('backbone.10', 24, 24, 1, 17),
    ...block('backbone.11', 24, 24, 1, 19),
    ...block('backbone.12', 24, 24, 1, 21),
    ...block('backbone.13', 24, 24, 1, 23),
    ...block('backbone.14', 24, 24, 1, 25),
    ...block('backbone.15', 24, 24, 1, 27),
    ...block('backbone.16', 24, 24, 1, 29),
    ...block('backbone.17', 24, 48, 2, 31),
    ...block('backbone.18', 48, 48, 1, 33),
    ...block('backbone.19', 48, 48, 1, 35),
    ...block('backbone.20', 48, 48, 1, 37),
    ...block('backbone.21', 48, 48, 1, 39),
    ...block('backbone.22', 48, 48, 1, 41),
    ...block('backbone.23', 48, 48, 1, 43),
    ...block('backbone.24', 48, 48, 1, 45),
    ...block('backbone.25', 48, 96, 2, 47),
    ...block('backbone.26', 96, 96, 1, 49),
    ...block('backbone.27', 96, 96, 1, 51),
    ...block('backbone.28', 96, 96, 1, 53),
    ...block('backbone.29', 96, 96, 1, 55),
    ...block('backbone.30', 96, 96, 1, 57),
    ...block('backbone.31', 96, 96, 1, 59),
    ...block('backbone.32', 96, 96, 1, 61),
    // FinalBlazeBlock: depthwise stride 2 + pointwise, no skip path.
    ...block('final', 96, 96, 2, 63),
    conv('classifier_8', 96, 2, 1, 1, 65, { output: 'classificators', concatIndex: 0 }),
    conv('classifier_16', 96, 6, 1, 1, 66, { output: 'classificators', concatIndex: 1 }),
    conv('regressor_8', 96, 32, 1, 1, 67, { output: 'regressors', concatIndex: 0 }),
    conv('regressor_16', 96, 96, 1, 1, 68, { output: 'regressors', concatIndex: 1 }),
  ],
};

export const TORCH_NAMING: Readonly<Record<TorchArchitecture, TorchNaming>> = { front: FRONT, back: BACK };

/** The naming of a preset's PyTorch module, or null when the preset has none (e.g. full_range). */
export function torchNamingFor(preset: Preset): TorchNaming | null {
  return preset.torchArchitecture ? TORCH_NAMING[preset.torchArchitecture] : null;
}

export function torchWeightShape(layer: TorchLayer): number[] {
  return layer.kind === 'depthwise'
    ? [layer.outChannels, 1, layer.kernel, layer.kernel]
    : [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel];
}

/** The TFLite (IR) shape of a layer's kernel: conv [O,KH,KW,I], depthwise [1,KH,KW,C]. */
export function tfliteWeightShape(layer: TorchLayer): number[] {
  return layer.kind === 'depthwise'
    ? [1, layer.kernel, layer.kernel, layer.outChannels]
    : [layer.outChannels, layer.kernel, layer.kernel, layer.inChannels];
}

/** The state_dict entries in order: weight then bias of every layer. */
export function torchParams(naming: TorchNaming): TorchParam[] {
  return naming.layers.flatMap((layer) => [
    { key: `${layer.module}.weight`, shape: torchWeightShape(layer), role: 'weight' as const, layer },
    { key: `${layer.module}.bias`, shape: [layer.outChannels], role: 'bias' as const, layer },
  ]);
}

/**
 * The layout transform from TFLite to PyTorch, in one place: conv [O,H,W,I] -> [O,I,H,W];
 * depthwise [1,H,W,C] -> [C,1,H,W]. Both are the permutation "move the last axis to position 1"
 * after folding depthwise's leading 1 into the channel axis.
 */
export function toTorchLayout(kind: TorchLayerKind, irShape: readonly number[], data: Float32Array): Float32Array {
  if (irShape.length !== 4) throw new Error(`expected a 4-D kernel, got [${irShape.join(',')}]`);
  const out = new Float32Array(data.length);
  if (kind === 'depthwise') {
    const [one, kh, kw, c] = irShape as [number, number, number, number];
    if (one !== 1) throw new Error(`depthwise kernel [${irShape.join(',')}]: depth multiplier layouts other than [1,H,W,C] are not supported`);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let ch = 0; ch < c; ch++) out[(ch * kh + y) * kw + x] = data[(y * kw + x) * c + ch]!;
    return out;
  }
  const [o, kh, kw, i] = irShape as [number, number, number, number];
  for (let oc = 0; oc < o; oc++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let ic = 0; ic < i; ic++) out[((oc * i + ic) * kh + y) * kw + x] = data[((oc * kh + y) * kw + x) * i + ic]!;
  return out;
}

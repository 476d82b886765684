// Model presets as data. Values are MediaPipe's published graph options
// (face_detection_short_range.pbtxt, face_detection_full_range.pbtxt) and the seed's (front 0.75, back 0.65).
import { ToolkitError } from '../errors.js';
import type { NmsOptions, Preset, PresetName, SsdAnchorsOptions, TensorsToDetectionsOptions } from './types.js';

export type { Preset, PresetName } from './types.js';

function ssd128or256(size: number, minScale: number, strides: number[]): SsdAnchorsOptions {
  return {
    inputSizeWidth: size,
    inputSizeHeight: size,
    minScale,
    maxScale: 0.75,
    anchorOffsetX: 0.5,
    anchorOffsetY: 0.5,
    numLayers: strides.length,
    featureMapWidth: [],
    featureMapHeight: [],
    strides,
    aspectRatios: [1.0],
    reduceBoxesInLowestLayer: false,
    interpolatedScaleAspectRatio: 1.0,
    fixedAnchorSize: true,
  };
}

function faceDecode(size: number, numBoxes: number, minScoreThresh: number): TensorsToDetectionsOptions {
  return {
    numClasses: 1,
    numBoxes,
    numCoords: 16,
    boxCoordOffset: 0,
    keypointCoordOffset: 4,
    numKeypoints: 6,
    numValuesPerKeypoint: 2,
    sigmoidScore: true,
    scoreClippingThresh: 100.0,
    reverseOutputOrder: true,
    xScale: size,
    yScale: size,
    wScale: size,
    hScale: size,
    minScoreThresh,
  };
}

const FULL_RANGE_ANCHORS: SsdAnchorsOptions = {
  inputSizeWidth: 192,
  inputSizeHeight: 192,
  minScale: 0.1484375,
  maxScale: 0.75,
  anchorOffsetX: 0.5,
  anchorOffsetY: 0.5,
  numLayers: 1,
  featureMapWidth: [],
  featureMapHeight: [],
  strides: [4],
  aspectRatios: [1.0],
  reduceBoxesInLowestLayer: false,
  interpolatedScaleAspectRatio: 0.0,
  fixedAnchorSize: true,
};

// Each model family keeps the NMS scoring of the code it comes from: MediaPipe's graphs report a cluster's
// best score, the seed (BlazeFace-PyTorch) its mean score.
const MEDIAPIPE_NMS: NmsOptions = { minSuppressionThreshold: 0.3, flavour: 'mediapipe' };
const SEED_NMS: NmsOptions = { minSuppressionThreshold: 0.3, flavour: 'blend' };

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  short_range: {
    name: 'short_range',
    description: 'MediaPipe short-range face detector (128x128, faces within ~2 m), float16 weights',
    source: { kind: 'package', packageName: '@mediapipe/face_detection', fileName: 'face_detection_short_range.tflite' },
    inputWidth: 128,
    inputHeight: 128,
    anchors: ssd128or256(128, 0.1484375, [8, 16, 16, 16]),
    decode: faceDecode(128, 896, 0.5),
    nms: MEDIAPIPE_NMS,
    torchArchitecture: 'front',
  },
  full_range: {
    name: 'full_range',
    description: 'MediaPipe full-range face detector (192x192, faces within ~5 m), float16 weights',
    source: { kind: 'package', packageName: '@mediapipe/face_detection', fileName: 'face_detection_full_range.tflite' },
    inputWidth: 192,
    inputHeight: 192,
    anchors: FULL_RANGE_ANCHORS,
    decode: faceDecode(192, 2304, 0.6),
    nms: MEDIAPIPE_NMS,
  },
  full_range_sparse: {
    name: 'full_range_sparse',
    description: 'MediaPipe full-range face detector, sparse weights (DENSIFY), 192x192',
    source: { kind: 'package', packageName: '@mediapipe/face_detection', fileName: 'face_detection_full_range_sparse.tflite' },
    inputWidth: 192,
    inputHeight: 192,
    anchors: FULL_RANGE_ANCHORS,
    decode: faceDecode(192, 2304, 0.6),
    nms: MEDIAPIPE_NMS,
  },
  front: {
    name: 'front',
    description: "The seed's front-camera model (face_detection_front.tflite, 128x128, float32), user-supplied",
    source: { kind: 'user', fileName: 'face_detection_front.tflite' },
    inputWidth: 128,
    inputHeight: 128,
    anchors: ssd128or256(128, 0.1484375, [8, 16, 16, 16]),
    decode: faceDecode(128, 896, 0.75),
    nms: SEED_NMS,
    torchArchitecture: 'front',
  },
  back: {
    name: 'back',
    description: "The seed's back-camera model (face_detection_back.tflite, 256x256, float32), user-supplied",
    source: { kind: 'user', fileName: 'face_detection_back.tflite' },
    inputWidth: 256,
    inputHeight: 256,
    anchors: ssd128or256(256, 0.15625, [16, 32, 32, 32]),
    decode: faceDecode(256, 896, 0.65),
    nms: SEED_NMS,
    torchArchitecture: 'back',
  },
};

/** Presets whose model ships in an npm package: the ones `convert` and `verify` process by default. */
export const PACKAGED_PRESETS: readonly PresetName[] = ['short_range', 'full_range', 'full_range_sparse'];

export function getPreset(name: string): Preset {
  const preset = (PRESETS as Record<string, Preset | undefined>)[name];
  if (!preset) {
    throw new ToolkitError('UNKNOWN_PRESET', `unknown preset '${name}'; expected one of ${Object.keys(PRESETS).join(', ')}`);
  }
  return preset;
}

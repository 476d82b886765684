// Types of the model presets. Presets are plain data (see ./index.ts); code never branches on a preset's name.

/** Options of MediaPipe's SsdAnchorsCalculator (mediapipe/calculators/tflite/ssd_anchors_calculator.proto). */
export interface SsdAnchorsOptions {
  inputSizeWidth: number;
  inputSizeHeight: number;
  minScale: number;
  maxScale: number;
  anchorOffsetX: number;
  anchorOffsetY: number;
  numLayers: number;
  /** Explicit feature map sizes; when empty they are derived from strides: ceil(input / stride). */
  featureMapWidth: number[];
  featureMapHeight: number[];
  strides: number[];
  aspectRatios: number[];
  reduceBoxesInLowestLayer: boolean;
  interpolatedScaleAspectRatio: number;
  fixedAnchorSize: boolean;
}

/** Options of MediaPipe's TensorsToDetectionsCalculator (tensors_to_detections_calculator.proto). */
export interface TensorsToDetectionsOptions {
  numClasses: number;
  numBoxes: number;
  numCoords: number;
  boxCoordOffset: number;
  keypointCoordOffset: number;
  numKeypoints: number;
  numValuesPerKeypoint: number;
  sigmoidScore: boolean;
  scoreClippingThresh: number;
  /** true: boxes are stored x, y, w, h (MediaPipe's face models); false: y, x, h, w. */
  reverseOutputOrder: boolean;
  xScale: number;
  yScale: number;
  wScale: number;
  hScale: number;
  /** MediaPipe's published threshold (the seed uses 0.75 for front, 0.65 for back). */
  minScoreThresh: number;
}

/** Options of NonMaxSuppression as used by the face graphs. */
export interface NmsOptions {
  /** IoU above which detections are merged/suppressed (0.3 in MediaPipe's face graphs and the seed). */
  minSuppressionThreshold: number;
  /**
   * How a cluster's score is reported (see src/detect/non-max-suppression.ts): 'mediapipe' (the best score,
   * MediaPipe's WEIGHTED NMS) for MediaPipe's models, 'blend' (the mean score, BlazeFace-PyTorch's) for the seed's.
   */
  flavour: 'blend' | 'mediapipe';
}

export type PresetName = 'short_range' | 'full_range' | 'full_range_sparse' | 'front' | 'back';

export type ModelSourceSpec =
  /** A file shipped in an npm package. */
  | { kind: 'package'; packageName: string; fileName: string }
  /** A file the user passes with --model-file (the seed's front/back models are not on npm). */
  | { kind: 'user'; fileName: string };

export interface Preset {
  name: PresetName;
  description: string;
  source: ModelSourceSpec;
  /** Model input size in pixels. */
  inputWidth: number;
  inputHeight: number;
  anchors: SsdAnchorsOptions;
  decode: TensorsToDetectionsOptions;
  nms: NmsOptions;
  /**
   * Name of the PyTorch module layout the .pth follows ('front' or 'back', see src/presets/torch-naming.ts),
   * or undefined when there is no seed architecture for this model (no .pth is emitted).
   */
  torchArchitecture?: 'front' | 'back';
}

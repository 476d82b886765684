// The option records of MediaPipe's published SsdAnchorsCalculator tests
// (mediapipe/calculators/tflite/ssd_anchors_calculator_test.cc: FaceDetectionConfig, MobileSSDConfig),
// with the proto defaults filled in for fields the tests leave unset
// (interpolated_scale_aspect_ratio = 1.0, fixed_anchor_size = false, reduce_boxes_in_lowest_layer = false).
// MediaPipe compares them with golden text files; here the expected layout is written out by hand.
import type { SsdAnchorsOptions } from '../presets/types.js';

export interface GoldenGroupLayout {
  /** Layers merged into the group (same stride). */
  layers: number[];
  featureMap: number;
  anchorsPerCell: number;
}

export interface GoldenConfig {
  /** Name of the TEST in ssd_anchors_calculator_test.cc. */
  testName: string;
  options: SsdAnchorsOptions;
  /** Groups worked out by hand from the options (feature map = ceil(input / stride)). */
  expectedGroups: GoldenGroupLayout[];
  expectedCount: number;
}

export const FACE_DETECTION_CONFIG: GoldenConfig = {
  testName: 'FaceDetectionConfig',
  options: {
    inputSizeWidth: 256,
    inputSizeHeight: 256,
    minScale: 0.1171875,
    maxScale: 0.75,
    anchorOffsetX: 0.5,
    anchorOffsetY: 0.5,
    numLayers: 5,
    featureMapWidth: [],
    featureMapHeight: [],
    strides: [8, 16, 32, 32, 32],
    aspectRatios: [1.0],
    reduceBoxesInLowestLayer: false,
    interpolatedScaleAspectRatio: 1.0,
    fixedAnchorSize: true,
  },
  // 32*32*2 + 16*16*2 + 8*8*(3 layers * 2) = 2048 + 512 + 384
  expectedGroups: [
    { layers: [0], featureMap: 32, anchorsPerCell: 2 },
    { layers: [1], featureMap: 16, anchorsPerCell: 2 },
    { layers: [2, 3, 4], featureMap: 8, anchorsPerCell: 6 },
  ],
  expectedCount: 2944,
};

export const MOBILE_SSD_CONFIG: GoldenConfig = {
  testName: 'MobileSSDConfig',
  options: {
    inputSizeWidth: 300,
    inputSizeHeight: 300,
    minScale: 0.2,
    maxScale: 0.95,
    anchorOffsetX: 0.5,
    anchorOffsetY: 0.5,
    numLayers: 6,
    featureMapWidth: [],
    featureMapHeight: [],
    strides: [16, 32, 64, 128, 256, 512],
    aspectRatios: [1.0, 2.0, 0.5, 3.0, 0.3333],
    reduceBoxesInLowestLayer: true,
    interpolatedScaleAspectRatio: 1.0,
    fixedAnchorSize: false,
  },
  // 19*19*3 (reduced lowest layer) + (10*10 + 5*5 + 3*3 + 2*2 + 1*1) * (5 ratios + interpolated) = 1083 + 834
  expectedGroups: [
    { layers: [0], featureMap: 19, anchorsPerCell: 3 },
    { layers: [1], featureMap: 10, anchorsPerCell: 6 },
    { layers: [2], featureMap: 5, anchorsPerCell: 6 },
    { layers: [3], featureMap: 3, anchorsPerCell: 6 },
    { layers: [4], featureMap: 2, anchorsPerCell: 6 },
    { layers: [5], featureMap: 1, anchorsPerCell: 6 },
  ],
  expectedCount: 1917,
};

export const GOLDEN_CONFIGS: readonly GoldenConfig[] = [FACE_DETECTION_CONFIG, MOBILE_SSD_CONFIG];

// Package entry: the detector, its types, and the lower-level pieces (decode, NMS, letterbox, drawing, anchors, presets).
export { createDetector } from './detect/detector.js';
export type { BatchEntry, Detector, DetectorOptions } from './detect/detector.js';
export { Face, FACE_DETECTION_LENGTH, KEYPOINT_NAMES, facesFromDetections } from './detect/face.js';
export type { Box, FaceLike, KeypointName, Point } from './detect/face.js';
export { rollFromEyes, TFJS_MODELS_KEYPOINT_NAMES, toMediaPipeDetection, toTfjsModelsFace } from './detect/face.js';
export type { MediaPipeDetection, NamedPoint, TfjsModelsFace } from './detect/face.js';
export { inputLabel, loadInputImage } from './detect/input.js';
export type { ImageInput, RawImage } from './detect/input.js';
export { decodeDetections, decodeImage } from './detect/decode.js';
export type { DecodeOptions } from './detect/decode.js';
export { anchorScores, detectionRow, detectionStride, tensorsToDetections } from './detect/tensors-to-detections.js';
export type { Detections, TensorsToDetectionsRunOptions } from './detect/tensors-to-detections.js';
export { intersectionOverUnion, NMS_FLAVOURS, weightedNonMaxSuppression } from './detect/non-max-suppression.js';
export type { NmsFlavour, WeightedNmsOptions } from './detect/non-max-suppression.js';
export { computeLetterbox, imageToModel, letterboxRgb, modelToImage, modelToImageNormalized } from './detect/letterbox.js';
export type { LetterboxTransform } from './detect/letterbox.js';
export { drawDetections } from './detect/draw.js';
export { generateAnchors } from './anchors/ssd-anchors-calculator.js';
export { getPreset, PACKAGED_PRESETS, PRESETS } from './presets/index.js';
export type { NmsOptions, Preset, PresetName, SsdAnchorsOptions, TensorsToDetectionsOptions } from './presets/types.js';
export { BACKEND_NAMES } from './backends/backend.js';
export type { Backend, BackendFactory, BackendName, ImageBatch, ModelSource, RawOutputs } from './backends/backend.js';
export { getBackendFactory } from './backends/index.js';
export { DEFAULT_BACKEND_ORDER, missingBackendPackages, resolveBackendName } from './backends/index.js';
export { loadModelSource } from './model-source.js';
export { decodeRgb, toModelBatch } from './image/pixels.js';
export type { RgbImage } from './image/pixels.js';
export {
  ArtifactIntegrityError,
  BackendUnavailableError,
  InputImageError,
  InvalidOptionError,
  OutputPathError,
  ParityError,
  TfliteFormatError,
  ToolkitError,
  UnsupportedOpError,
} from './errors.js';
export { BackendError, GraphShapeError } from './errors.js';
export type { Preprocess } from './detect/input.js';
export { autoTileGrid, planTiles } from './detect/tiling.js';
export type { Tile, TileGrid, TilingOption } from './detect/tiling.js';
export { detectMany } from './detect/detect-many.js';
export type { DetectManyOptions, ManyEntry, ManyTask, TaskExtras } from './detect/detect-many.js';
export { cropRect, faceCropsJpeg, faceRect, CROP_SCALE, CROP_SIZE } from './detect/crops.js';
export type { FaceRect } from './detect/crops.js';
export { KEYPOINT_STYLE } from './detect/face.js';

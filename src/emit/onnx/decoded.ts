// model_decoded.onnx: the plain ONNX network (./emit.ts) plus MediaPipe's TensorsToDetections decode
// inside the graph, for users of ONNX Runtime in Python, C#, C++ or Java who would otherwise port the
// anchor decode. Same arithmetic as src/detect/tensors-to-detections.ts, driven only by the preset
// record (scales, offsets, output order, score clipping, sigmoid), in float32 with plain opset-17 ops:
//   boxes     [N,A,4]  ymin, xmin, ymax, xmax (normalized)
//   keypoints [N,A,2K] x, y per keypoint (normalized)
//   scores    [N,A]    max over classes of sigmoid(clip(logit))
// No score filter and no NMS: every anchor is output, so the shapes stay static. MediaPipe drops boxes
// of negative size; here they keep ymax < ymin / xmax < xmin for the caller to drop (the example does).
import { generateAnchors } from '../../anchors/ssd-anchors-calculator.js';
import { KEYPOINT_NAMES } from '../../detect/face.js';
import { detectorOutputs, type Graph } from '../../ir/graph.js';
import type { Preset } from '../../presets/types.js';
import { OnnxEmitError, OnnxGraphBuilder } from './builder.js';
import { BATCH_DIM_PARAM, buildOnnxModel, ONNX_INPUT_NAME, ONNX_OUTPUT_NAMES, valueInfo, type OnnxEmitMeta } from './emit.js';
import type { ModelProto } from './proto.js';

export const DECODED_ONNX_FILE = 'model_decoded.onnx';
export const DECODED_OUTPUT_NAMES = { boxes: 'boxes', keypoints: 'keypoints', scores: 'scores' } as const;
/** The NMS the metadata recommends, as the detector's default (weighted, 'blend'). */
const DECODED_RECOMMENDED_NMS = 'blend' as const;

/** Every name the plain model already uses (values and nodes), so the decode's names cannot collide. */
function usedNames(model: ModelProto): string[] {
  const g = model.graph;
  return [
    ...g.input.map((v) => v.name),
    ...g.initializer.map((t) => t.name),
    ...g.node.flatMap((n) => [n.name, ...n.output]),
  ];
}

/** Which regressor channels hold x then y of a (x, y) pair stored at `offset` (MediaPipe's reverse_output_order). */
function xyChannels(offset: number, reverse: boolean): [number, number] {
  return reverse ? [offset, offset + 1] : [offset + 1, offset];
}

function metadata(plain: ModelProto, preset: Preset, numAnchors: number, meta: OnnxEmitMeta): { key: string; value: string }[] {
  const inherited = new Map(plain.metadata_props.map((p) => [p.key, p.value]));
  const k = preset.decode.numKeypoints;
  return [
    { key: 'preset', value: preset.name },
    { key: 'source_file', value: inherited.get('source_file') ?? '' },
    { key: 'source_sha256', value: inherited.get('source_sha256') ?? '' },
    { key: 'input', value: `${ONNX_INPUT_NAME}: float32 NHWC [N,${preset.inputHeight},${preset.inputWidth},3], RGB` },
    { key: 'input_height', value: String(preset.inputHeight) },
    { key: 'input_width', value: String(preset.inputWidth) },
    { key: 'normalization', value: 'x / 127.5 - 1 (8-bit RGB to [-1, 1])' },
    { key: 'anchor_count', value: String(numAnchors) },
    { key: DECODED_OUTPUT_NAMES.boxes, value: `float32 [N,${numAnchors},4]: ymin, xmin, ymax, xmax per anchor, normalized [0,1] coordinates of the model input; drop rows with ymax < ymin or xmax < xmin (negative size)` },
    { key: DECODED_OUTPUT_NAMES.keypoints, value: `float32 [N,${numAnchors},${2 * k}]: x, y of each keypoint (${KEYPOINT_NAMES.slice(0, k).join(', ')}), normalized` },
    { key: DECODED_OUTPUT_NAMES.scores, value: `float32 [N,${numAnchors}]: ${preset.decode.sigmoidScore ? `sigmoid(clip(logit, ±${preset.decode.scoreClippingThresh}))` : 'raw logit'}, max over ${preset.decode.numClasses} class(es)` },
    { key: 'keypoint_names', value: JSON.stringify(KEYPOINT_NAMES.slice(0, k)) },
    { key: 'min_score', value: String(preset.decode.minScoreThresh) },
    { key: 'iou_threshold', value: String(preset.nms.minSuppressionThreshold) },
    {
      key: 'nms',
      value: `weighted, ${DECODED_RECOMMENDED_NMS}: keep scores >= min_score, best first; a face merges every box with IoU > iou_threshold with the best remaining one; coordinates are the score-weighted mean, score the mean of the cluster (MediaPipe's own flavour takes the best score)`,
    },
    { key: 'anchor_options', value: inherited.get('anchor_options') ?? JSON.stringify(preset.anchors) },
    { key: 'decode_options', value: inherited.get('decode_options') ?? JSON.stringify(preset.decode) },
    { key: 'toolkit_version', value: meta.toolkitVersion },
  ];
}

/**
 * Append the decode to `plain` (the ModelProto buildOnnxModel made for the same graph and preset); returns
 * a new model whose outputs are boxes, keypoints and scores. `plain` itself is left unchanged.
 */
export function buildDecodedOnnxModel(plain: ModelProto, graph: Graph, preset: Preset, meta: OnnxEmitMeta): ModelProto {
  const file = graph.source.fileName;
  const d = preset.decode;
  const { regressors, classificators } = detectorOutputs(graph);
  const A = d.numBoxes;
  const K = d.numKeypoints;
  const fail = (msg: string): never => {
    throw new OnnxEmitError(`${file}: cannot build ${DECODED_ONNX_FILE} for ${preset.name}: ${msg}`, file);
  };
  if (d.numValuesPerKeypoint !== 2) fail(`numValuesPerKeypoint must be 2, got ${d.numValuesPerKeypoint}`);
  if (d.boxCoordOffset + 4 > d.numCoords || d.keypointCoordOffset + 2 * K > d.numCoords) fail(`box/keypoint offsets do not fit in numCoords ${d.numCoords}`);
  const [, regA, regC] = regressors.shape;
  const [, clsA, clsC] = classificators.shape;
  if (regA !== A || regC !== d.numCoords) fail(`regressors are [${regressors.shape.join(',')}], the preset expects [N,${A},${d.numCoords}]`);
  if (clsA !== A || clsC !== d.numClasses) fail(`classificators are [${classificators.shape.join(',')}], the preset expects [N,${A},${d.numClasses}]`);
  const anchors = generateAnchors(preset.anchors);
  if (anchors.length !== A * 4) fail(`the anchor options give ${anchors.length / 4} anchors, the preset expects ${A}`);

  const b = new OnnxGraphBuilder(graph);
  for (const name of usedNames(plain)) b.claim(name);
  for (const name of Object.values(DECODED_OUTPUT_NAMES)) {
    if (b.claim(name) !== name) fail(`the network already has a value named '${name}'`);
  }
  const R = ONNX_OUTPUT_NAMES.regressors;
  const C = ONNX_OUTPUT_NAMES.classificators;
  const ints = (hint: string, values: readonly number[]): string => b.addInt64Initializer(b.claim(`decode/${hint}`), [values.length], values);
  const floats = (hint: string, dims: readonly number[], values: ArrayLike<number>): string =>
    b.addFloatInitializer(b.claim(`decode/${hint}`), dims, Float32Array.from(values));
  /** One node with one fresh output (or the given public name); returns the output's name. */
  const op = (type: string, inputs: readonly string[], hint: string, attrs: Record<string, number | readonly number[]> = {}, out?: string): string => {
    const name = out ?? b.claim(`decode/${hint}`);
    b.node(type, inputs, [name], attrs, `decode/${hint}/${type}`);
    return name;
  };

  // Anchors as one constant, rows [x_center, y_center, w, h] (anchors.npy's layout).
  const anchorTable = floats('anchors', [A, 4], anchors);
  const axis1 = ints('axis1', [1]);
  const anchorXy = op('Slice', [anchorTable, ints('start0', [0]), ints('end2', [2]), axis1], 'anchor_xy');
  const anchorWh = op('Slice', [anchorTable, ints('start2', [2]), ints('end4', [4]), axis1], 'anchor_wh');
  const half = floats('half', [], [0.5]);

  // Boxes: center = raw / scale * anchor_wh + anchor_xy, size = raw / scale * anchor_wh.
  const o = d.boxCoordOffset;
  const [cx, cy] = xyChannels(o, d.reverseOutputOrder);
  const [sw, sh] = xyChannels(o + 2, d.reverseOutputOrder);
  const centerRaw = op('Gather', [R, ints('box_center_channels', [cx, cy])], 'box_center_raw', { axis: 2 });
  const sizeRaw = op('Gather', [R, ints('box_size_channels', [sw, sh])], 'box_size_raw', { axis: 2 });
  const center = op('Add', [op('Mul', [op('Div', [centerRaw, floats('xy_scale', [2], [d.xScale, d.yScale])], 'box_center_scaled'), anchorWh], 'box_center_offset'), anchorXy], 'box_center');
  const size = op('Mul', [op('Div', [sizeRaw, floats('wh_scale', [2], [d.wScale, d.hScale])], 'box_size_scaled'), anchorWh], 'box_size');
  const halfSize = op('Mul', [size, half], 'box_half_size');
  const mins = op('Sub', [center, halfSize], 'box_min');
  const maxs = op('Add', [center, halfSize], 'box_max');
  const corners = op('Concat', [mins, maxs], 'box_corners', { axis: 2 }); // xmin, ymin, xmax, ymax
  op('Gather', [corners, ints('yx_order', [1, 0, 3, 2])], 'boxes', { axis: 2 }, DECODED_OUTPUT_NAMES.boxes);

  // Keypoints: each (x, y) pair against its anchor, as [N, A, K, 2] so the [A, 1, 2] anchors broadcast.
  const kpChannels = Array.from({ length: K }, (_, k) => xyChannels(d.keypointCoordOffset + 2 * k, d.reverseOutputOrder)).flat();
  const kpRaw = op('Gather', [R, ints('keypoint_channels', kpChannels)], 'keypoints_raw', { axis: 2 });
  const kpPairs = op('Reshape', [kpRaw, ints('pairs_shape', [0, A, K, 2])], 'keypoint_pairs');
  const kpScaled = op('Div', [kpPairs, floats('kp_xy_scale', [2], [d.xScale, d.yScale])], 'keypoints_scaled');
  const kpAnchorWh = op('Unsqueeze', [anchorWh, axis1], 'anchor_wh_per_keypoint');
  const kpAnchorXy = op('Unsqueeze', [anchorXy, axis1], 'anchor_xy_per_keypoint');
  const kp = op('Add', [op('Mul', [kpScaled, kpAnchorWh], 'keypoints_offset'), kpAnchorXy], 'keypoint_pairs_decoded');
  op('Reshape', [kp, ints('keypoints_shape', [0, A, 2 * K])], 'keypoints', {}, DECODED_OUTPUT_NAMES.keypoints);

  // Scores: clip to ±score_clipping_thresh (when > 0), sigmoid, max over classes.
  let s: string = C;
  if (d.sigmoidScore) {
    if (d.scoreClippingThresh > 0) {
      s = op('Clip', [s, floats('score_clip_min', [], [-d.scoreClippingThresh]), floats('score_clip_max', [], [d.scoreClippingThresh])], 'logits_clipped');
    }
    s = op('Sigmoid', [s], 'class_scores');
  }
  op('ReduceMax', [s], 'scores', { axes: [2], keepdims: 0 }, DECODED_OUTPUT_NAMES.scores);

  return {
    ...plain,
    doc_string: `${plain.doc_string ?? ''}; anchor decode inside the graph (outputs boxes, keypoints, scores)`,
    graph: {
      ...plain.graph,
      name: `${plain.graph.name}_decoded`,
      node: [...plain.graph.node, ...b.nodes],
      initializer: [...plain.graph.initializer, ...b.initializers],
      output: [
        valueInfo(DECODED_OUTPUT_NAMES.boxes, [BATCH_DIM_PARAM, A, 4]),
        valueInfo(DECODED_OUTPUT_NAMES.keypoints, [BATCH_DIM_PARAM, A, 2 * K]),
        valueInfo(DECODED_OUTPUT_NAMES.scores, [BATCH_DIM_PARAM, A]),
      ],
    },
    metadata_props: metadata(plain, preset, A, meta),
  };
}

/** The decoded model for a graph on its own (tests); convert.ts reuses the plain model it already built. */
export function buildDecodedOnnxModelFor(graph: Graph, preset: Preset, meta: OnnxEmitMeta): ModelProto {
  return buildDecodedOnnxModel(buildOnnxModel(graph, preset, meta), graph, preset, meta);
}

#!/usr/bin/env python3
"""Face detection with artifacts/<preset>/model_decoded.onnx, onnxruntime and numpy only.

Usage: decoded_onnx_example.py MODEL_DECODED.onnx IMAGE
IMAGE is already at the model's input size (128x128 for short_range, 192x192 for full_range; the
metadata's input_height / input_width): a .npy holding uint8 RGB [H, W, 3], or any image file Pillow reads.
Prints one JSON line: {"image": IMAGE, "faces": [[ymin, xmin, ymax, xmax, x0, y0, ... x5, y5, score], ...]},
normalized coordinates, best face first.

The lines between the two "README snippet" markers are the example shown in README.md, verbatim
(test/decoded-onnx-python.test.ts checks that, and runs this file).
"""
import json
import sys

import numpy as np

model_path, image_path = sys.argv[1], sys.argv[2]
if image_path.endswith(".npy"):
    rgb = np.load(image_path)
else:
    from PIL import Image  # only needed for image files

    rgb = np.asarray(Image.open(image_path).convert("RGB"))

# README snippet: begin
import numpy as np, onnxruntime as ort  # pip install onnxruntime numpy
def weighted_nms(boxes, keypoints, scores, min_score, iou=0.3, blend=True):  # one image -> rows: box, keypoints, score
    det = np.concatenate([boxes, keypoints, scores[:, None]], 1, dtype=np.float64)[(scores >= min_score) & np.all(boxes[:, 2:] >= boxes[:, :2], 1)]
    det, faces = det[np.argsort(-det[:, -1], kind="stable")], []  # best first, ties in anchor order
    while len(det):  # a face: the best remaining box and every box overlapping it by IoU > iou, score-weighted
        wh = np.clip(np.minimum(det[0, 2:4], det[:, 2:4]) - np.maximum(det[0, :2], det[:, :2]), 0, None)
        union = np.prod(det[0, 2:4] - det[0, :2]) + np.prod(det[:, 2:4] - det[:, :2], 1) - wh.prod(1)
        member = (np.divide(wh.prod(1), union, out=np.zeros(len(det)), where=union > 0) > iou) | (np.arange(len(det)) == 0)
        w = det[member, -1]
        faces.append(np.append(w @ det[member, :-1] / w.sum(), w.mean() if blend else w[0]) if len(w) > 1 and w.sum() > 0 else det[0])
        det = det[~member]
    return (f := np.array(faces).reshape(-1, boxes.shape[1] + keypoints.shape[1] + 1))[np.argsort(-f[:, -1], kind="stable")]  # by reported score
session = ort.InferenceSession(model_path)  # artifacts/<preset>/model_decoded.onnx; rgb: uint8 [H, W, 3] at its input size
min_score, iou = (float(session.get_modelmeta().custom_metadata_map[k]) for k in ("min_score", "iou_threshold"))
faces = weighted_nms(*(out[0] for out in session.run(None, {"input": (rgb[None] / 127.5 - 1).astype(np.float32)})), min_score, iou)
# README snippet: end

print(json.dumps({"image": image_path, "faces": faces.tolist()}))

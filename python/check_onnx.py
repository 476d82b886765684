#!/usr/bin/env python3
"""Validate a model.onnx with the official ONNX checker (full_check: also runs strict shape inference).

Usage: check_onnx.py MODEL.onnx
Prints one JSON line: {"ok": true, "onnx": "1.12.0", "ir_version": 8, "opsets": {...}, "nodes": 123,
"outputs": {"regressors": ["N", 896, 16], ...}} or {"ok": false, "error": "..."}; exit status 0 / 1.
"""
import json
import sys


def dims_of(value_info):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main(argv):
    if len(argv) != 2:
        print(json.dumps({"ok": False, "error": "usage: check_onnx.py MODEL.onnx"}))
        return 2
    path = argv[1]
    try:
        import onnx
    except ImportError as exc:
        print(json.dumps({"ok": False, "error": "python package onnx is not installed: %s" % exc}))
        return 3
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        # Shape inference over the whole graph: the declared outputs must be what inference derives.
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as exc:  # the checker raises several exception types; all mean "invalid"
        print(json.dumps({"ok": False, "path": path, "error": "%s: %s" % (type(exc).__name__, exc)}))
        return 1
    result = {
        "ok": True,
        "path": path,
        "onnx": onnx.__version__,
        "ir_version": model.ir_version,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "nodes": len(model.graph.node),
        "inputs": {v.name: dims_of(v) for v in inferred.graph.input},
        "outputs": {v.name: dims_of(v) for v in inferred.graph.output},
        "metadata_keys": [p.key for p in model.metadata_props],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

// The Python example of model_decoded.onnx (python/decoded_onnx_example.py, shown verbatim in README.md)
// finds the same faces as the detector. onnxruntime for Python is not installable here, so the decoded
// model runs on onnxruntime-node, its outputs are saved as .npy, and the example runs unchanged against a
// stand-in `onnxruntime` module that replays them: the stand-in also checks that the example fed it
// exactly the input onnxruntime-node got (same x / 127.5 - 1). The numpy decode-free part (weighted NMS)
// is then the example's own code, compared with createDetector on the same images and thresholds, for
// both NMS flavours ('blend' as written in the example, 'mediapipe' through its `blend=False`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACTS_ROOT } from '../src/artifacts/manifest.js';
import { createDetector } from '../src/detect/detector.js';
import type { NmsFlavour } from '../src/detect/non-max-suppression.js';
import { DECODED_ONNX_FILE } from '../src/emit/onnx/decoded.js';
import { decodeModel } from '../src/emit/onnx/proto.js';
import { REPO_ROOT } from '../src/fixtures.js';
import type { RgbImage } from '../src/image/pixels.js';
import { encodeNpy } from '../src/npy.js';
import { PACKAGED_PRESETS, PRESETS } from '../src/presets/index.js';
import { runDecodedOnnx } from '../src/verify/decoded-onnx.js';
import { loadVerifyInputs, prepareInputs } from '../src/verify/inputs.js';
import { PYTHON } from './onnx-helpers.js';

const EXAMPLE = path.join(REPO_ROOT, 'python', 'decoded_onnx_example.py');
const BEGIN = '# README snippet: begin\n';
const END = '# README snippet: end\n';
const TOLERANCE = 1e-5;
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy) console.warn('decoded ONNX Python example test skipped: needs python3-numpy (/usr/bin/python3 -c "import numpy" failed)');

/** The example's README region. */
function snippet(): string {
  const text = readFileSync(EXAMPLE, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${EXAMPLE}: README snippet markers missing`);
  return text.slice(start + BEGIN.length, end);
}

// Stand-in for the onnxruntime Python package: replays onnxruntime-node's outputs for the same input.
const FAKE_ORT = `
import json, os
import numpy as np

_DIR = os.environ["REPLAY_DIR"]


class _ModelMeta:
    def __init__(self, custom_metadata_map):
        self.custom_metadata_map = custom_metadata_map


class InferenceSession:
    def __init__(self, path, *args, **kwargs):
        with open(os.path.join(_DIR, "replay.json")) as f:
            self._replay = json.load(f)
        if os.path.abspath(path) != self._replay["model"]:
            raise RuntimeError("stand-in has outputs of %s, not %s" % (self._replay["model"], path))

    def get_modelmeta(self):
        return _ModelMeta(dict(self._replay["metadata"]))

    def run(self, output_names, feeds):
        names = ["boxes", "keypoints", "scores"]
        if output_names is not None and list(output_names) != names:
            raise RuntimeError("outputs %r" % (output_names,))
        x = feeds["input"]
        for n in range(self._replay["count"]):
            ran = np.load(os.path.join(_DIR, "input-%d.npy" % n))
            if x.dtype == ran.dtype and x.shape == ran.shape and np.array_equal(x, ran):
                return [np.load(os.path.join(_DIR, "out-%d-%s.npy" % (n, k))) for k in names]
        raise RuntimeError("input %s %s is none of those onnxruntime-node ran: the preprocessing differs" % (x.dtype, x.shape))
`;

// Runs the example's weighted_nms (taken from the file by ast, not copied) on the replayed outputs.
const NMS_ONLY = `
import ast, json, os, sys
import numpy as np

example, replay_dir, count, min_score, iou, blend = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6] == "blend"
tree = ast.parse(open(example).read())
fn = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "weighted_nms"]
scope = {"np": np}
exec(compile(ast.Module(body=fn, type_ignores=[]), example, "exec"), scope)
for n in range(count):
    outs = [np.load(os.path.join(replay_dir, "out-%d-%s.npy" % (n, k)))[0] for k in ("boxes", "keypoints", "scores")]
    print(json.dumps(scope["weighted_nms"](*outs, min_score, iou, blend).tolist()))
`;

const work = mkdtempSync(path.join(tmpdir(), 'decoded-python-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const summary: string[] = [];
afterAll(() => console.log(`\nPython example vs detector\n${summary.join('\n')}`));

function python(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: { ...process.env, ...env }, cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Max |diff| of coordinates and of scores between two face lists of equal length, in order. */
function faceDiff(got: number[][], want: number[][]): { coord: number; score: number } {
  let coord = 0;
  let score = 0;
  got.forEach((row, i) => {
    const ref = want[i]!;
    expect(row).toHaveLength(ref.length);
    for (let c = 0; c < ref.length - 1; c++) coord = Math.max(coord, Math.abs(row[c]! - ref[c]!));
    score = Math.max(score, Math.abs(row[ref.length - 1]! - ref[ref.length - 1]!));
  });
  return { coord, score };
}

async function detectorFaces(preset: string, images: RgbImage[], nms: NmsFlavour): Promise<number[][][]> {
  const detector = await createDetector({ preset: preset as never, backend: 'onnxruntime-node', nms });
  try {
    return await Promise.all(images.map(async (img) => (await detector.detect(img)).map((f) => f.toArray())));
  } finally {
    await detector.dispose();
  }
}

describe('python/decoded_onnx_example.py', () => {
  it('README.md shows the example verbatim, 15 lines at most', () => {
    const code = snippet();
    expect(code.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`python\n${code}\`\`\``);
  });

  it.skipIf(!hasNumpy).each([...PACKAGED_PRESETS])('%s: the same faces as createDetector on the verifier inputs (needs python3-numpy)', async (name) => {
    const preset = PRESETS[name];
    const dir = mkdtempSync(path.join(work, `${name}-`));
    const model = path.join(DEFAULT_ARTIFACTS_ROOT, name, DECODED_ONNX_FILE);
    const bytes = new Uint8Array(readFileSync(model));
    const inputs = await loadVerifyInputs({ randomCount: 2 });
    const { images, batch } = await prepareInputs(inputs, preset);
    const A = preset.decode.numBoxes;
    const K = preset.decode.numKeypoints;
    const out = await runDecodedOnnx(bytes, batch, A, K);
    const plane = preset.inputHeight * preset.inputWidth * 3;
    images.forEach((img, n) => {
      writeFileSync(path.join(dir, `input-${n}.npy`), encodeNpy(batch.data.subarray(n * plane, (n + 1) * plane), [1, preset.inputHeight, preset.inputWidth, 3]));
      writeFileSync(path.join(dir, `out-${n}-boxes.npy`), encodeNpy(out.boxes.subarray(n * A * 4, (n + 1) * A * 4), [1, A, 4]));
      writeFileSync(path.join(dir, `out-${n}-keypoints.npy`), encodeNpy(out.keypoints.subarray(n * A * 2 * K, (n + 1) * A * 2 * K), [1, A, 2 * K]));
      writeFileSync(path.join(dir, `out-${n}-scores.npy`), encodeNpy(out.scores.subarray(n * A, (n + 1) * A), [1, A]));
      writeFileSync(path.join(dir, `image-${n}.rgb`), img.data);
    });
    const metadata = Object.fromEntries(decodeModel(bytes).metadata_props.map((p) => [p.key, p.value]));
    writeFileSync(path.join(dir, 'replay.json'), JSON.stringify({ model, metadata, count: images.length }));
    writeFileSync(path.join(dir, 'onnxruntime.py'), FAKE_ORT);
    // The images as the uint8 [H, W, 3] arrays the example expects (encodeNpy writes floats only).
    python(['-c', `import numpy as np, sys\nfor n in range(${images.length}): np.save(sys.argv[1] + "/image-%d.npy" % n, np.fromfile(sys.argv[1] + "/image-%d.rgb" % n, np.uint8).reshape(${preset.inputHeight}, ${preset.inputWidth}, 3))`, dir]);

    // The example as a user runs it (blend, the metadata's thresholds) ...
    const blend = images.map((_, n) => {
      const line = python([EXAMPLE, model, path.join(dir, `image-${n}.npy`)], { PYTHONPATH: dir, REPLAY_DIR: dir }).trim();
      return (JSON.parse(line) as { faces: number[][] }).faces;
    });
    // ... and its weighted_nms with blend=False against the detector's 'mediapipe' flavour.
    const minScore = preset.decode.minScoreThresh;
    const iou = preset.nms.minSuppressionThreshold;
    const mediapipe = python(['-c', NMS_ONLY, EXAMPLE, dir, String(images.length), String(minScore), String(iou), 'mediapipe'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as number[][]);
    expect(metadata.min_score).toBe(String(minScore));
    expect(metadata.iou_threshold).toBe(String(iou));

    for (const [flavour, got] of [['blend', blend], ['mediapipe', mediapipe]] as const) {
      const want = await detectorFaces(name, images, flavour);
      const counts = got.map((f) => f.length);
      expect(counts, `${name} ${flavour}: faces per input`).toEqual(want.map((f) => f.length));
      let coord = 0;
      let score = 0;
      got.forEach((faces, n) => {
        const d = faceDiff(faces, want[n]!);
        coord = Math.max(coord, d.coord);
        score = Math.max(score, d.score);
      });
      summary.push(`${name.padEnd(17)} ${flavour.padEnd(9)} faces ${counts.join('/')}  max coord diff ${coord.toExponential(2)}  max score diff ${score.toExponential(2)}`);
      expect(coord).toBeLessThanOrEqual(TOLERANCE);
      expect(score).toBeLessThanOrEqual(TOLERANCE);
    }
    // The photos have faces, so the comparison is not vacuous.
    expect(blend.reduce((s, f) => s + f.length, 0)).toBeGreaterThan(0);
  }, 120_000);
});

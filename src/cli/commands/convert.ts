// `blazeface convert`: rebuild every artifact (ONNX, tfjs, .pth, anchors) and artifacts/manifest.json.
import { DEFAULT_ARTIFACTS_ROOT } from '../../artifacts/manifest.js';
import { convertPreset, type ConvertResult } from '../../convert/convert.js';
import { getPreset, PACKAGED_PRESETS, type Preset } from '../../presets/index.js';
import { EXIT, parseCommand, pathOption, presetNames, UsageError, withUsage } from '../args.js';

export const summary = 'convert models to ONNX, TensorFlow.js and PyTorch artifacts (+ anchors, manifest)';

const USAGE = `usage: blazeface convert [--preset <name>[,<name>...]] [--model-file <file.tflite>] [--out <artifacts dir>] [--tfjs-weights float16|float32] [--int8]
  default: short_range, full_range, full_range_sparse from @mediapipe/face_detection
  --model-file needs exactly one --preset (e.g. --preset front --model-file face_detection_front.tflite)
  --int8 also writes model_int8.onnx per preset (int8 QDQ, calibrated on the verifier's photos; judged by verify at the face level)`;

export async function run(argv: string[]): Promise<number> {
  return withUsage(USAGE, async () => {
    const parsed = parseCommand(argv, USAGE, {
      preset: { type: 'string' },
      'model-file': { type: 'string' },
      out: { type: 'string' },
      'tfjs-weights': { type: 'string' },
      int8: { type: 'boolean' },
    });
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    // `--preset ''` is an empty list, a usage error: only an absent --preset means the default set.
    const presets = (values.preset !== undefined ? presetNames('--preset', [values.preset]) : PACKAGED_PRESETS).map(getPreset);
    const modelFile = pathOption('--model-file', values['model-file']);
    if (modelFile !== undefined && presets.length !== 1) throw new UsageError('--model-file needs exactly one --preset');
    const weightDtype = values['tfjs-weights'] ?? 'float16';
    if (weightDtype !== 'float16' && weightDtype !== 'float32') throw new UsageError(`--tfjs-weights must be float16 or float32, got '${weightDtype}'`);
    return convertAll(presets, { modelFile, root: pathOption('--out', values.out) ?? DEFAULT_ARTIFACTS_ROOT, weightDtype, int8: values.int8 === true });
  });
}

async function convertAll(presets: readonly Preset[], opts: { modelFile?: string; root: string; weightDtype: 'float16' | 'float32'; int8: boolean }): Promise<number> {
  const { modelFile, root, weightDtype, int8 } = opts;
  const results: ConvertResult[] = [];
  const started = performance.now();
  for (const preset of presets) {
    console.log(`[convert] ${preset.name}: ${modelFile ?? preset.source.fileName}`);
    const result = await convertPreset(preset, {
      modelFile,
      artifactsRoot: root,
      tfjsWeightDtype: weightDtype,
      int8,
      log: (line) => console.log(line),
    });
    console.log(`[convert] ${preset.name}: done in ${(result.ms / 1000).toFixed(2)} s`);
    results.push(result);
  }
  console.log(`[convert] manifest: ${root}/manifest.json (${results.length} preset(s), ${((performance.now() - started) / 1000).toFixed(2)} s in all)`);
  return EXIT.ok;
}

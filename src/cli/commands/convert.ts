// `blazeface convert`: rebuild every artifact (ONNX, tfjs, .pth, anchors) and artifacts/manifest.json.
import { parseArgs } from 'node:util';
import { DEFAULT_ARTIFACTS_ROOT } from '../../artifacts/manifest.js';
import { convertPreset, type ConvertResult } from '../../convert/convert.js';
import { getPreset, PACKAGED_PRESETS, PRESETS } from '../../presets/index.js';

export const summary = 'convert models to ONNX, TensorFlow.js and PyTorch artifacts (+ anchors, manifest)';

const USAGE = `usage: blazeface convert [--preset <name>[,<name>...]] [--model-file <file.tflite>] [--out <artifacts dir>] [--tfjs-weights float16|float32]
  default: short_range, full_range, full_range_sparse from @mediapipe/face_detection
  --model-file needs exactly one --preset (e.g. --preset front --model-file face_detection_front.tflite)`;

export async function run(argv: string[]): Promise<number> {
  let values: { preset?: string; 'model-file'?: string; out?: string; 'tfjs-weights'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        preset: { type: 'string' },
        'model-file': { type: 'string' },
        out: { type: 'string' },
        'tfjs-weights': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = values.preset ? values.preset.split(',').map((s) => s.trim()) : [...PACKAGED_PRESETS];
  const unknown = names.filter((n) => !(n in PRESETS));
  if (unknown.length > 0) {
    console.error(`unknown preset ${unknown.map((n) => `'${n}'`).join(', ')}; expected one of ${Object.keys(PRESETS).join(', ')}\n${USAGE}`);
    return 2;
  }
  const presets = names.map(getPreset);
  if (values['model-file'] && presets.length !== 1) {
    console.error(`--model-file needs exactly one --preset\n${USAGE}`);
    return 2;
  }
  const weightDtype = values['tfjs-weights'] ?? 'float16';
  if (weightDtype !== 'float16' && weightDtype !== 'float32') {
    console.error(`--tfjs-weights must be float16 or float32, got '${weightDtype}'`);
    return 2;
  }
  const root = values.out ?? DEFAULT_ARTIFACTS_ROOT;
  const results: ConvertResult[] = [];
  const started = performance.now();
  for (const preset of presets) {
    console.log(`[convert] ${preset.name}: ${values['model-file'] ?? preset.source.fileName}`);
    const result = await convertPreset(preset, {
      modelFile: values['model-file'],
      artifactsRoot: root,
      tfjsWeightDtype: weightDtype,
      log: (line) => console.log(line),
    });
    console.log(`[convert] ${preset.name}: done in ${(result.ms / 1000).toFixed(2)} s`);
    results.push(result);
  }
  console.log(`[convert] manifest: ${root}/manifest.json (${results.length} preset(s), ${((performance.now() - started) / 1000).toFixed(2)} s in all)`);
  return 0;
}

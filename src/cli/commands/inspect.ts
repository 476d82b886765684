// `blazeface inspect <file.tflite | preset>`: what the reader sees in a model (tensors, ops, I/O).
import { existsSync } from 'node:fs';
import { ToolkitError } from '../../errors.js';
import { PRESETS, getPreset } from '../../presets/index.js';
import { formatInspect } from '../../tflite/format.js';
import { resolvePresetModelFile } from '../../tflite/model-file.js';
import { loadTfliteFile } from '../../tflite/reader.js';

export const summary = 'print the tensors, operators, inputs and outputs of a .tflite file or preset';

const USAGE = `usage: blazeface inspect <file.tflite | preset> [--model-file <path>]
  presets: ${Object.keys(PRESETS).join(', ')}
  --model-file  the .tflite for a user-supplied preset (front, back)`;

export async function run(argv: string[]): Promise<number> {
  let target: string | undefined;
  let modelFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    } else if (arg === '--model-file') {
      modelFile = argv[++i];
      if (!modelFile) throw new ToolkitError('USAGE', '--model-file needs a path');
    } else if (arg.startsWith('-')) {
      console.error(`unknown option ${arg}\n${USAGE}`);
      return 2;
    } else if (target === undefined) {
      target = arg;
    } else {
      console.error(`unexpected argument ${arg}\n${USAGE}`);
      return 2;
    }
  }
  if (target === undefined) {
    if (!modelFile) {
      console.error(USAGE);
      return 2;
    }
    target = modelFile;
    modelFile = undefined;
  }
  // A path that exists is a file; otherwise the argument must be a preset name.
  const file = existsSync(target) ? target : target in PRESETS ? resolvePresetModelFile(getPreset(target), modelFile) : undefined;
  if (!file) {
    console.error(`'${target}' is neither a file nor a preset (${Object.keys(PRESETS).join(', ')})`);
    return 2;
  }
  const graph = await loadTfliteFile(file);
  console.log(formatInspect(graph));
  return 0;
}

// `blazeface inspect <file.tflite | preset>`: what the reader sees in a model (tensors, ops, I/O).
import { existsSync } from 'node:fs';
import { PRESETS, getPreset } from '../../presets/index.js';
import { formatInspect } from '../../tflite/format.js';
import { resolvePresetModelFile } from '../../tflite/model-file.js';
import { loadTfliteFile } from '../../tflite/reader.js';
import { EXIT, parseCommand, pathOption, UsageError, withUsage } from '../args.js';

export const summary = 'print the tensors, operators, inputs and outputs of a .tflite file or preset';

const USAGE = `usage: blazeface inspect <file.tflite | preset> [--model-file <path>]
  presets: ${Object.keys(PRESETS).join(', ')}
  --model-file  the .tflite for a user-supplied preset (front, back)`;

export async function run(argv: string[]): Promise<number> {
  return withUsage(USAGE, async () => {
    const parsed = parseCommand(argv, USAGE, { 'model-file': { type: 'string' } }, true);
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    let target = positionals[0];
    let modelFile = pathOption('--model-file', values['model-file']);
    if (target === undefined) {
      if (modelFile === undefined) throw new UsageError('no model given');
      target = modelFile;
      modelFile = undefined;
    }
    // A path that exists is a file; otherwise the argument must be a preset name.
    const file = existsSync(target) ? target : target in PRESETS ? resolvePresetModelFile(getPreset(target), modelFile) : undefined;
    if (!file) throw new UsageError(`'${target}' is neither a file nor a preset (${Object.keys(PRESETS).join(', ')})`);
    const graph = await loadTfliteFile(file);
    console.log(formatInspect(graph));
    return EXIT.ok;
  });
}

// Where a preset's .tflite lives: packaged presets resolve inside their npm package (through Node's
// resolver, so hoisting and workspaces work); 'user' presets need the file from the user.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ToolkitError } from '../errors.js';
import type { Preset } from '../presets/index.js';

/** Absolute path of the model file for `preset`; `userFile` (e.g. --model-file) wins when given. */
export function resolvePresetModelFile(preset: Preset, userFile?: string): string {
  if (userFile) {
    const file = path.resolve(userFile);
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new ToolkitError('MODEL_FILE_NOT_FOUND', `${userFile}: no such model file (expected a .tflite for preset '${preset.name}')`, { file });
    }
    return file;
  }
  const source = preset.source;
  if (source.kind === 'user') {
    throw new ToolkitError(
      'MODEL_FILE_REQUIRED',
      `preset '${preset.name}' has no packaged model: pass the path of your ${source.fileName} (e.g. --model-file path/to/${source.fileName})`,
    );
  }
  const spec = `${source.packageName}/${source.fileName}`;
  try {
    return createRequire(import.meta.url).resolve(spec);
  } catch (err) {
    throw new ToolkitError('MODEL_FILE_NOT_FOUND', `preset '${preset.name}': cannot resolve ${spec} (is ${source.packageName} installed?)`, { cause: err });
  }
}

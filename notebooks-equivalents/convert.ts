// Equivalent of the seed project's Convert notebook: list the tensors of the model the way the
// notebook printed the TFLite graph (index, name, type, buffer, shape), then the TFLite -> PyTorch
// name map with shapes, then save the .pth (models with a seed layout only).
// Run: npx tsx notebooks-equivalents/convert.ts [preset] [--model-file f.tflite] [--out blazeface.pth]
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { printTorchNameMap } from './convert-torch-map.js';
import type { Graph } from '../src/ir/graph.js';
import { getPreset } from '../src/presets/index.js';
import { formatTensorTable } from '../src/tflite/format.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { loadTfliteFile } from '../src/tflite/reader.js';

/** Print the tensor table of `graph` (the notebook's `print_graph`). */
export function printTensorTable(graph: Graph, log: (line: string) => void = console.log): void {
  log(`${graph.source.fileName}: ${graph.tensors.length} tensors`);
  log(formatTensorTable(graph));
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'model-file': { type: 'string' }, out: { type: 'string' } },
  });
  const preset = getPreset(positionals[0] ?? 'short_range');
  const graph = await loadTfliteFile(resolvePresetModelFile(preset, values['model-file']));
  printTensorTable(graph);
  console.log('');
  if (!preset.torchArchitecture) {
    console.log(`${preset.name}: no PyTorch module layout in the seed (front and back only), so no .pth`);
    return;
  }
  const out = values.out ?? path.join(tmpdir(), `blazeface-${preset.name}.pth`);
  await printTorchNameMap(graph, preset, out);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}

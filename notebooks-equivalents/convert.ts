// Equivalent of the seed project's Convert notebook, part 1: list the tensors of the
// short-range model the way the notebook printed the TFLite graph (index, name, type,
// buffer, shape). Run: npx tsx notebooks-equivalents/convert.ts [preset]
import { pathToFileURL } from 'node:url';
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
  const preset = getPreset(argv[0] ?? 'short_range');
  const graph = await loadTfliteFile(resolvePresetModelFile(preset));
  printTensorTable(graph);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}

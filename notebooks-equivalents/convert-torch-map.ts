// The seed's Convert notebook, PyTorch half: print which TFLite tensor becomes which state_dict key
// (with both shapes), then save the .pth. The mapping itself is data (src/presets/torch-naming.ts).
import { serializeStateDict, torchStateDict } from '../src/emit/torch/emit.js';
import type { Graph } from '../src/ir/graph.js';
import type { Preset } from '../src/presets/types.js';
import { writeFileAtomic } from '../src/util/fs.js';

export interface TorchNameMapResult {
  /** The printed lines (one per state_dict entry, after a header). */
  readonly lines: string[];
  /** The saved .pth bytes. */
  readonly bytes: Uint8Array;
}

const shape = (s: readonly number[]): string => `(${s.join(', ')})`;

/** Print the TFLite tensor -> PyTorch key map for `preset`'s layout and save the state_dict to `pthPath`. */
export async function printTorchNameMap(
  graph: Graph,
  preset: Preset,
  pthPath: string,
  log: (line: string) => void = console.log,
): Promise<TorchNameMapResult> {
  const entries = torchStateDict(graph, preset);
  const nameWidth = Math.max(...entries.map((e) => e.irTensor.name.length + shape(e.irTensor.shape).length + 8));
  const lines = [`${graph.source.fileName} -> PyTorch '${preset.torchArchitecture}' layout, ${entries.length} tensors`];
  for (const e of entries) {
    const left = `#${e.irTensor.index} ${e.irTensor.name} ${shape(e.irTensor.shape)}`;
    lines.push(`${left.padEnd(nameWidth)} -> ${e.key} ${shape(e.shape)}`);
  }
  lines.forEach((l) => log(l));
  const bytes = serializeStateDict(entries);
  await writeFileAtomic(pthPath, bytes);
  log(`saved ${pthPath} (${bytes.byteLength} bytes)`);
  return { lines, bytes };
}

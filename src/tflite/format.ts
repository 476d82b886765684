// Text views of a Graph for `inspect` and the Convert-notebook equivalent. Pure functions of the
// IR (no file access) so they are testable; the tensor table follows the seed notebook's listing:
// index, name, type, buffer, shape.
import type { FoldedOp, Graph, Op, Tensor } from '../ir/graph.js';

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function dtypeText(t: Tensor): string {
  return t.sourceDtype === t.dtype ? t.dtype : `${t.dtype} (${t.sourceDtype})`;
}

/** One line per tensor: index, name, dtype (source dtype if different), buffer, shape; folded constants marked. */
export function formatTensorTable(graph: Graph): string {
  const nameWidth = Math.min(60, Math.max(4, ...graph.tensors.map((t) => t.name.length)));
  const idxWidth = Math.max(3, String(graph.tensors.length - 1).length);
  const dtypeWidth = Math.max(5, ...graph.tensors.map((t) => dtypeText(t).length));
  const lines = [`${'#'.padStart(idxWidth)}  ${'name'.padEnd(nameWidth)}  ${'dtype'.padEnd(dtypeWidth)}  buffer  shape`];
  for (const t of graph.tensors) {
    const notes = [t.folded ? 'folded' : '', t.data && !t.folded ? 'const' : ''].filter(Boolean).join(' ');
    lines.push(
      `${String(t.index).padStart(idxWidth)}  ${t.name.padEnd(nameWidth)}  ${dtypeText(t).padEnd(dtypeWidth)}  ${String(t.buffer).padStart(6)}  ${shapeText(t.shape)}${notes ? `  ${notes}` : ''}`,
    );
  }
  return lines.join('\n');
}

function attributes(op: Op): string {
  switch (op.type) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const dil = op.dilationH !== 1 || op.dilationW !== 1 ? ` dilation ${op.dilationH}x${op.dilationW}` : '';
      const mult = op.type === 'DEPTHWISE_CONV_2D' && op.depthMultiplier !== 1 ? ` multiplier ${op.depthMultiplier}` : '';
      return `stride ${op.strideH}x${op.strideW} ${op.padding}${dil}${mult} ${op.activation}`;
    }
    case 'MAX_POOL_2D':
      return `filter ${op.filterH}x${op.filterW} stride ${op.strideH}x${op.strideW} ${op.padding} ${op.activation}`;
    case 'ADD':
      return op.activation;
    case 'CONCATENATION':
      return `axis ${op.axis} ${op.activation}`;
    case 'PAD':
      return `paddings ${JSON.stringify(op.paddings)}`;
    case 'RESHAPE':
      return `new_shape ${shapeText(op.newShape)}`;
    case 'RESIZE_BILINEAR':
      return `size ${op.size[0]}x${op.size[1]} align_corners=${op.alignCorners} half_pixel_centers=${op.halfPixelCenters}`;
    case 'DEPTH_TO_SPACE':
      return `block_size ${op.blockSize}`;
    case 'RELU':
      return '';
  }
}

/** The full `inspect` report: source, inputs/outputs, op counts, ops in order, tensor table. */
export function formatInspect(graph: Graph): string {
  const tensorLabel = (i: number): string => {
    const t = graph.tensors[i]!;
    return `#${i} ${t.name} ${dtypeText(t)} ${shapeText(t.shape)}`;
  };
  const all: (Op | FoldedOp)[] = [...graph.ops, ...graph.foldedOps].sort((a, b) => a.index - b.index);
  const counts = new Map<string, number>();
  for (const op of all) counts.set(op.type, (counts.get(op.type) ?? 0) + 1);
  const folded = new Set(graph.foldedOps.map((op) => op.type));
  const typeWidth = Math.max(...[...counts.keys()].map((k) => k.length));

  const lines = [
    `file:        ${graph.source.fileName} (${graph.source.byteLength} bytes, sha256 ${graph.source.sha256})`,
    `description: ${graph.description}`,
    `schema:      version ${graph.schemaVersion}`,
    `tensors:     ${graph.tensors.length}, operators: ${all.length} (${graph.ops.length} runtime, ${graph.foldedOps.length} folded at load)`,
    '',
    'inputs:',
    ...graph.inputs.map((i) => `  ${tensorLabel(i)}`),
    'outputs:',
    ...graph.outputs.map((i) => `  ${tensorLabel(i)}`),
    '',
    'operator counts:',
    ...[...counts.entries()].map(([type, n]) => `  ${type.padEnd(typeWidth)}  ${String(n).padStart(4)}${folded.has(type as FoldedOp['type']) ? '  (folded at load)' : ''}`),
    '',
    'operators (execution order):',
  ];
  const idxWidth = String(Math.max(0, ...all.map((op) => op.index))).length;
  for (const op of all) {
    const io = `[${op.inputs.join(', ')}] -> [${op.outputs.join(', ')}]`;
    const extra = op.type === 'DEQUANTIZE' || op.type === 'DENSIFY' ? 'folded' : attributes(op as Op);
    lines.push(`  ${String(op.index).padStart(idxWidth)}  ${op.type.padEnd(typeWidth)}  ${io}${extra ? `  ${extra}` : ''}`);
  }
  lines.push('', 'tensors:', formatTensorTable(graph));
  return lines.join('\n');
}

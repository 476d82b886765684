// TFLite's DENSIFY at load time: sparse tensor (TACO-like format of schema.fbs SparsityParameters)
// -> dense row-major data. Same algorithm as TFLite's FormatConverter::SparseToDense: walk the
// n + k traversal levels (n dense dimensions, then k block dimensions), DENSE levels enumerate
// 0..size-1, SPARSE_CSR levels read array_segments[parent] .. array_segments[parent + 1] of
// array_indices; each leaf consumes the next stored value. Every index is validated first, so a
// corrupt sparsity table becomes a message, not an out-of-bounds write.

export type DimensionFormat = 'DENSE' | 'SPARSE_CSR';

export interface DimensionMetadata {
  readonly format: DimensionFormat;
  /** Size of a DENSE level. */
  readonly denseSize: number;
  /** SPARSE_CSR: offsets into `indices`, one segment per position of the previous level (+1). */
  readonly segments?: ArrayLike<number>;
  /** SPARSE_CSR: coordinates of the stored entries within this level. */
  readonly indices?: ArrayLike<number>;
}

export interface SparsityFormat {
  /** n + k entries: a permutation of the n dense dims, then of the k block dims (n..n+k-1). */
  readonly traversalOrder: readonly number[];
  /** k entries: the dense dimension each block dimension subdivides. */
  readonly blockMap: readonly number[];
  /** n + k entries, in traversal order. */
  readonly dimMetadata: readonly DimensionMetadata[];
}

function isPermutation(values: readonly number[], from: number, count: number): boolean {
  const seen = new Set(values);
  return values.length === count && seen.size === count && values.every((v) => Number.isInteger(v) && v >= from && v < from + count);
}

/**
 * Densify `values` (the stored non-zeros, in traversal order) into a zero-filled tensor of `denseShape`.
 * Throws Error with a precise message when the sparsity description is inconsistent; the caller
 * attaches file and tensor.
 */
export function densify<T extends Float32Array | Int32Array>(denseShape: readonly number[], sparsity: SparsityFormat, values: T): T {
  const { traversalOrder, blockMap, dimMetadata } = sparsity;
  const n = denseShape.length;
  const k = blockMap.length;
  const levels = n + k;
  if (traversalOrder.length !== levels || dimMetadata.length !== levels) {
    throw new Error(`traversal_order has ${traversalOrder.length} and dim_metadata ${dimMetadata.length} entries, expected ${levels} (${n} dims + ${k} block dims)`);
  }
  if (!isPermutation(traversalOrder.slice(0, n), 0, n) || !isPermutation(traversalOrder.slice(n), n, k)) {
    throw new Error(`traversal_order [${traversalOrder.join(',')}] is not a permutation of 0..${n - 1} followed by one of ${n}..${levels - 1}`);
  }
  if (new Set(blockMap).size !== k || !blockMap.every((d) => Number.isInteger(d) && d >= 0 && d < n)) {
    throw new Error(`block_map [${blockMap.join(',')}] must name ${k} distinct dimensions below ${n}`);
  }

  // Block sizes come from the DENSE metadata of the block levels; the blocked shape divides by them.
  const blockSize = new Array<number>(k);
  const blockedShape = denseShape.slice();
  for (let b = 0; b < k; b++) {
    const md = dimMetadata[traversalOrder.indexOf(n + b)]!;
    const dim = blockMap[b]!;
    if (md.format !== 'DENSE' || !(md.denseSize > 0) || denseShape[dim]! % md.denseSize !== 0) {
      throw new Error(`block dimension ${n + b} must be DENSE with a size dividing dimension ${dim} (${denseShape[dim]}), got ${md.format} size ${md.denseSize}`);
    }
    blockSize[b] = md.denseSize;
    blockedShape[dim] = denseShape[dim]! / md.denseSize;
  }

  // Validate every level; `count` is the number of positions reached at the current level.
  let count = 1;
  for (let level = 0; level < levels; level++) {
    const d = traversalOrder[level]!;
    const size = d < n ? blockedShape[d]! : blockSize[d - n]!;
    const md = dimMetadata[level]!;
    if (md.format === 'DENSE') {
      if (md.denseSize !== size) throw new Error(`level ${level} (dimension ${d}) is DENSE with dense_size ${md.denseSize}, expected ${size}`);
      count *= size;
      continue;
    }
    const seg = md.segments;
    const idx = md.indices;
    if (!seg || !idx) throw new Error(`level ${level} (dimension ${d}) is SPARSE_CSR without array_segments/array_indices`);
    if (seg.length !== count + 1) throw new Error(`level ${level}: array_segments has ${seg.length} entries, expected ${count + 1}`);
    if (seg[0] !== 0 || seg[count] !== idx.length) {
      throw new Error(`level ${level}: array_segments must run from 0 to ${idx.length} (the array_indices length), got ${seg[0]}..${seg[count]}`);
    }
    for (let i = 0; i < count; i++) {
      if (seg[i]! > seg[i + 1]!) throw new Error(`level ${level}: array_segments decreases at entry ${i}`);
    }
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= size) throw new Error(`level ${level}: array_indices[${i}] = ${v} is outside 0..${size - 1}`);
    }
    count = idx.length;
  }
  if (count !== values.length) throw new Error(`the sparsity structure addresses ${count} values, the buffer holds ${values.length}`);

  const strides = new Array<number>(n);
  let total = 1;
  for (let d = n - 1; d >= 0; d--) {
    strides[d] = total;
    total *= denseShape[d]!;
  }
  const out = new (values.constructor as new (length: number) => T)(total);
  const coords = new Array<number>(levels).fill(0);
  const orig = new Array<number>(n).fill(0);
  let next = 0;

  const visit = (level: number, parent: number): void => {
    if (level === levels) {
      for (let i = 0; i < n; i++) orig[traversalOrder[i]!] = coords[i]!;
      for (let i = n; i < levels; i++) {
        const b = traversalOrder[i]! - n;
        const dim = blockMap[b]!;
        orig[dim] = orig[dim]! * blockSize[b]! + coords[i]!;
      }
      let flat = 0;
      for (let d = 0; d < n; d++) flat += orig[d]! * strides[d]!;
      out[flat] = values[next++]!;
      return;
    }
    const md = dimMetadata[level]!;
    if (md.format === 'DENSE') {
      for (let i = 0; i < md.denseSize; i++) {
        coords[level] = i;
        visit(level + 1, parent * md.denseSize + i);
      }
    } else {
      const seg = md.segments!;
      const idx = md.indices!;
      for (let i = seg[parent]!; i < seg[parent + 1]!; i++) {
        coords[level] = idx[i]!;
        visit(level + 1, i);
      }
    }
  };
  visit(0, 0);
  return out;
}

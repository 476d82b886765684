// A second, deliberately different formulation of SsdAnchorsCalculator's output, used only to
// cross-check the port (tests and notebooks-equivalents/anchors.ts). It shares no code with
// ssd-anchors-calculator.ts: scales come from a lerp over layer positions, each layer's anchor
// shapes are listed on their own, and runs of equal strides are found by splitting first.
import type { SsdAnchorsOptions } from '../presets/types.js';

type Shape = [w: number, h: number];

function layerScale(o: SsdAnchorsOptions, layer: number): number {
  const n = o.strides.length;
  if (layer >= n) return 1.0; // the "next" scale of the last layer
  const t = n === 1 ? 0.5 : layer / (n - 1);
  return o.minScale * (1 - t) + o.maxScale * t;
}

function shapeOf(scale: number, ratio: number): Shape {
  return [scale * Math.sqrt(ratio), scale / Math.sqrt(ratio)];
}

function shapesOfLayer(o: SsdAnchorsOptions, layer: number): Shape[] {
  const s = layerScale(o, layer);
  if (layer === 0 && o.reduceBoxesInLowestLayer) return [shapeOf(0.1, 1), shapeOf(s, 2), shapeOf(s, 0.5)];
  const shapes = o.aspectRatios.map((ratio) => shapeOf(s, ratio));
  if (o.interpolatedScaleAspectRatio > 0) {
    shapes.push(shapeOf(Math.sqrt(s * layerScale(o, layer + 1)), o.interpolatedScaleAspectRatio));
  }
  return shapes;
}

/** Runs of consecutive layers sharing a stride, e.g. [8,16,16,16] -> [[0],[1,2,3]]. */
function strideRuns(strides: readonly number[]): number[][] {
  const runs: number[][] = [];
  strides.forEach((stride, layer) => {
    const run = runs.at(-1);
    if (run && strides[run[0]!] === stride) run.push(layer);
    else runs.push([layer]);
  });
  return runs;
}

/** Rows [x_center, y_center, w, h] as plain arrays. */
export function referenceAnchors(o: SsdAnchorsOptions): number[][] {
  return strideRuns(o.strides).flatMap((run) => {
    const first = run[0]!;
    const fh = o.featureMapHeight.length ? o.featureMapHeight[first]! : Math.ceil(o.inputSizeHeight / o.strides[first]!);
    const fw = o.featureMapWidth.length ? o.featureMapWidth[first]! : Math.ceil(o.inputSizeWidth / o.strides[first]!);
    const shapes = run.flatMap((layer) => shapesOfLayer(o, layer));
    const rows: number[][] = [];
    for (let cell = 0; cell < fw * fh; cell++) {
      const cx = ((cell % fw) + o.anchorOffsetX) / fw;
      const cy = (Math.floor(cell / fw) + o.anchorOffsetY) / fh;
      for (const [w, h] of shapes) rows.push(o.fixedAnchorSize ? [cx, cy, 1, 1] : [cx, cy, w, h]);
    }
    return rows;
  });
}

export interface AnchorComparison {
  /** Row counts of the two tables (a mismatch counts every unmatched row as differing). */
  rowsA: number;
  rowsB: number;
  /** Rows with any value differing by more than the tolerance (NaN counts as differing). */
  rowsDiffering: number;
  maxAbsDiff: number;
}

/** Compare a flat [n*4] table with rows, MediaPipe-test style (per value, absolute tolerance). */
export function compareAnchorTables(table: Float64Array, rows: readonly (readonly number[])[], tolerance: number): AnchorComparison {
  const rowsA = table.length / 4;
  const rowsB = rows.length;
  let rowsDiffering = Math.abs(rowsA - rowsB);
  let maxAbsDiff = 0;
  for (let i = 0; i < Math.min(rowsA, rowsB); i++) {
    let differs = false;
    for (let j = 0; j < 4; j++) {
      const d = Math.abs(table[i * 4 + j]! - rows[i]![j]!);
      if (!(d <= tolerance)) differs = true;
      if (Number.isNaN(d)) maxAbsDiff = Number.NaN;
      else if (d > maxAbsDiff) maxAbsDiff = d; // stays NaN once NaN was seen
    }
    if (differs) rowsDiffering++;
  }
  return { rowsA, rowsB, rowsDiffering, maxAbsDiff };
}

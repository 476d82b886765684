// The seed's Anchors notebook, as a script: `npx tsx notebooks-equivalents/anchors.ts`.
// Shows the SsdAnchorsCalculator options of the face presets, the first anchors, the MediaPipe test
// configs checked against an independent formulation, anchor counts, and the seed's anchors.npy check.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GOLDEN_CONFIGS } from '../src/anchors/golden-configs.js';
import { compareAnchorTables, referenceAnchors } from '../src/anchors/reference-anchors.js';
import { anchorGroups, generateAnchors } from '../src/anchors/ssd-anchors-calculator.js';
import { seedDir } from '../src/fixtures.js';
import { decodeNpy, encodeNpy } from '../src/npy.js';
import { PRESETS } from '../src/presets/index.js';
import type { SsdAnchorsOptions } from '../src/presets/types.js';
import { sha256Hex } from '../src/util/fs.js';

const TOLERANCE = 1e-6;

/** The options under MediaPipe's proto field names, as the notebook's dict shows them. */
function protoRecord(o: SsdAnchorsOptions): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}

function heading(title: string): void {
  console.log(`\n## ${title}\n`);
}

function formatRow(t: Float64Array, i: number): string {
  return `[${Array.from(t.subarray(i * 4, i * 4 + 4), (v) => v.toFixed(8)).join(', ')}]`;
}

function layout(o: SsdAnchorsOptions): string {
  return anchorGroups(o)
    .map((g) => `layers ${g.firstLayer}..${g.endLayer - 1} stride ${g.stride}: ${g.featureMapWidth}x${g.featureMapHeight} x ${g.shapes.length} = ${g.rowCount}`)
    .join('; ');
}

heading('Options (SsdAnchorsCalculatorOptions)');
for (const name of ['front', 'back', 'full_range'] as const) {
  console.log(`${name}:`, protoRecord(PRESETS[name].anchors));
}

heading('front: the first ten anchors [x_center, y_center, w, h]');
const front = generateAnchors(PRESETS.front.anchors);
console.log(`shape (${front.length / 4}, 4); ${layout(PRESETS.front.anchors)}`);
for (let i = 0; i < 10; i++) console.log(String(i).padStart(3), formatRow(front, i));

heading(`MediaPipe's ssd_anchors_calculator_test configs vs an independent formulation (tolerance ${TOLERANCE})`);
for (const golden of GOLDEN_CONFIGS) {
  const reference = referenceAnchors(golden.options);
  const t64 = generateAnchors(golden.options);
  const t32 = generateAnchors(golden.options, { precision: 'float32' });
  const c64 = compareAnchorTables(t64, reference, TOLERANCE);
  const c32 = compareAnchorTables(t32, reference, TOLERANCE);
  console.log(`${golden.testName}:`, protoRecord(golden.options));
  console.log(`  ${layout(golden.options)}`);
  console.log(`  anchors: ${t64.length / 4} (expected ${golden.expectedCount}, reference ${reference.length})`);
  console.log(`  rows differing > ${TOLERANCE}: float64 ${c64.rowsDiffering} (max |diff| ${c64.maxAbsDiff.toExponential(2)}), float32 as MediaPipe ${c32.rowsDiffering} (max |diff| ${c32.maxAbsDiff.toExponential(2)})`);
  console.log(`  first rows: ${formatRow(t64, 0)} ${formatRow(t64, 1)} ${formatRow(t64, 2)}`);
}

heading('Anchor counts per preset');
for (const preset of Object.values(PRESETS)) {
  const t = generateAnchors(preset.anchors);
  const bytes = encodeNpy(t, [t.length / 4, 4]);
  const agrees = compareAnchorTables(t, referenceAnchors(preset.anchors), 0).rowsDiffering === 0;
  console.log(
    `${preset.name.padEnd(18)} ${String(t.length / 4).padStart(5)}  (decode.numBoxes ${preset.decode.numBoxes})  sha256 ${sha256Hex(bytes).slice(0, 16)}  ` +
      `independent formulation ${agrees ? 'identical' : 'DIFFERS'}`,
  );
}

heading("Comparison with the seed's anchors.npy / anchorsback.npy");
const seed = seedDir();
if (!seed) {
  console.log('seed folder not found (needs ../shared/seed or BLAZEFACE_SEED_DIR); skipped');
} else {
  for (const [file, presetName] of [['anchors.npy', 'front'], ['anchorsback.npy', 'back']] as const) {
    const seedFile = path.join(seed, file);
    if (!existsSync(seedFile)) {
      console.log(`${file}: not in the seed folder; skipped`);
      continue;
    }
    const seedBytes = new Uint8Array(readFileSync(seedFile));
    const seedArray = decodeNpy(seedBytes, seedFile);
    const t = generateAnchors(PRESETS[presetName].anchors);
    const ours = encodeNpy(t, [t.length / 4, 4]);
    const sameBytes = Buffer.from(ours).equals(Buffer.from(seedBytes));
    const rows = seedArray.data.length / 4;
    const sameValues = rows === t.length / 4 && seedArray.data.every((v, i) => v === t[i]);
    console.log(
      `${file} ${seedArray.dtype} (${seedArray.shape.join(', ')}) vs ${presetName}: ` +
        `values ${sameValues ? 'identical' : 'DIFFER'}, bytes ${sameBytes ? 'identical' : 'differ'} (sha256 ${sha256Hex(seedBytes).slice(0, 16)})`,
    );
  }
}

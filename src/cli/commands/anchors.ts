// `blazeface anchors`: writes each preset's SSD anchor table (SsdAnchorsCalculator port) as a float64 .npy.
import path from 'node:path';
import { generateAnchors } from '../../anchors/ssd-anchors-calculator.js';
import { writeNpyFile } from '../../npy.js';
import { PRESETS, type PresetName } from '../../presets/index.js';
import { sha256Hex } from '../../util/fs.js';
import { DEFAULT_ARTIFACTS_ROOT, fileRecord, MANIFEST_FILE, updateManifest, type FileRecord } from '../../artifacts/manifest.js';
import { TOOLKIT_NAME, TOOLKIT_VERSION } from '../../version.js';
import { EXIT, parseCommand, pathOption, presetNames, UsageError, withUsage } from '../args.js';

export const summary = 'write artifacts/anchors/<preset>.npy (SSD anchor tables, float64, rows x,y,w,h)';

const USAGE = `usage: blazeface anchors [--preset <name>]... [--artifacts <root> | --out <dir>]

  --preset <name>     preset to write (repeatable; default: all of ${Object.keys(PRESETS).join(', ')})
  --artifacts <root>  write <root>/anchors/<preset>.npy and record them in <root>/manifest.json (default: the package's artifacts/)
  --out <dir>         write <dir>/<preset>.npy only, no manifest`;

export async function run(argv: string[]): Promise<number> {
  return withUsage(USAGE, async () => {
    const parsed = parseCommand(argv, USAGE, {
      preset: { type: 'string', multiple: true },
      out: { type: 'string' },
      artifacts: { type: 'string' },
    });
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const names = values.preset ? presetNames('--preset', values.preset) : (Object.keys(PRESETS) as PresetName[]);
    const out = pathOption('--out', values.out);
    const artifacts = pathOption('--artifacts', values.artifacts);
    if (out !== undefined && artifacts !== undefined) throw new UsageError('--out and --artifacts exclude each other');
    return write(names, { out, artifacts });
  });
}

async function write(names: readonly PresetName[], values: { out?: string; artifacts?: string }): Promise<number> {
  const root = values.out ? null : path.resolve(values.artifacts ?? DEFAULT_ARTIFACTS_ROOT);
  const outDir = root ? path.join(root, 'anchors') : path.resolve(values.out!);
  const records: FileRecord[] = [];
  // Sorted and de-duplicated so the output (files and lines) does not depend on flag order.
  for (const name of [...new Set(names)].sort()) {
    const table = generateAnchors(PRESETS[name].anchors);
    const rows = table.length / 4;
    const file = path.join(outDir, `${name}.npy`);
    const bytes = await writeNpyFile(file, table, [rows, 4]);
    if (root) records.push(fileRecord(root, file, bytes));
    const rel = path.relative(process.cwd(), file);
    const shown = rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
    console.log(`${name.padEnd(18)} ${String(rows).padStart(5)} anchors  sha256:${sha256Hex(bytes).slice(0, 16)}  ${shown}`);
  }
  if (root) {
    await updateManifest(root, { files: records }, `${TOOLKIT_NAME} ${TOOLKIT_VERSION}`);
    console.log(`manifest: ${path.join(root, MANIFEST_FILE)} (${records.length} anchor table(s) recorded)`);
  }
  return EXIT.ok;
}

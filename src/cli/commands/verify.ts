// `blazeface verify`: every backend against the float64 reference on every preset; writes
// artifacts/parity/report.{json,md,html} and ends with a summary table on stdout (progress on stderr).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, type BackendName } from '../../backends/backend.js';
import { PACKAGED_PRESETS, PRESETS } from '../../presets/index.js';
import type { PresetName } from '../../presets/types.js';
import { DEFAULT_TOLERANCES } from '../../verify/compare.js';
import { summaryTable } from '../../verify/report-text.js';
import { runVerify } from '../../verify/verify.js';
import { BROWSER_BACKEND_NAMES, type BrowserBackendName } from '../../browser/backends/types.js';
import { DEFAULT_PARITY_DIR, writeReports } from '../../verify/write.js';

export const summary = 'compare every backend with the float64 reference; write artifacts/parity/report.{json,md,html}';

const USAGE = `usage: blazeface verify [options]

  --presets a,b         presets to check (default ${PACKAGED_PRESETS.join(',')}; also ${Object.keys(PRESETS)
  .filter((p) => !(PACKAGED_PRESETS as readonly string[]).includes(p))
  .join(', ')} with --model-file)
  --backends x,y        backends to compare with the reference (default: all; unavailable ones are reported)
                        one of ${BACKEND_NAMES.filter((b) => b !== 'reference').join(', ')}
  --out dir             report folder (default artifacts/parity)
  --tolerance x         raw outputs: max |got-ref|/(1+|ref|) allowed (default ${DEFAULT_TOLERANCES.rawMaxErr})
  --det-tolerance x     decoded faces: max coordinate and score difference (default ${DEFAULT_TOLERANCES.detectionCoord})
  --fast                2 random inputs instead of 8, 1 timed run instead of 3
  --random n            number of seeded random inputs (default 8)
  --runs n              timed runs per backend after the compared run (default 3)
  --artifacts dir       artifacts root (default artifacts/)
  --model-file p=file   .tflite for a preset (repeatable; needed for front/back)
  --browser             also run the browser backends in headless Chromium (/usr/bin/chromium), as browser:<backend> rows
  --browser-backends x,y  which browser backends (default all: ${BROWSER_BACKEND_NAMES.join(', ')})
Exit status: 0 when every available backend passes, 1 otherwise, 2 on bad usage.`;

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);
}

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0)) throw new UsageError(`${flag} expects a number >= 0, got '${value}'`);
  return n;
}

function count(flag: string, value: string | undefined): number | undefined {
  const n = positiveNumber(flag, value);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`${flag} expects an integer, got '${value}'`);
  return n;
}

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        presets: { type: 'string' },
        backends: { type: 'string' },
        out: { type: 'string' },
        tolerance: { type: 'string' },
        'det-tolerance': { type: 'string' },
        fast: { type: 'boolean', default: false },
        random: { type: 'string' },
        runs: { type: 'string' },
        artifacts: { type: 'string' },
        'model-file': { type: 'string', multiple: true },
        browser: { type: 'boolean', default: false },
        'browser-backends': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  let options;
  try {
    const presets = list(v.presets) ?? [...PACKAGED_PRESETS];
    for (const p of presets) if (!(p in PRESETS)) throw new UsageError(`unknown preset '${p}'; expected one of ${Object.keys(PRESETS).join(', ')}`);
    const backends = list(v.backends);
    for (const b of backends ?? []) {
      if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new UsageError(`unknown backend '${b}'; expected one of ${BACKEND_NAMES.join(', ')}`);
    }
    const modelFiles: Partial<Record<PresetName, string>> = {};
    for (const spec of v['model-file'] ?? []) {
      const eq = spec.indexOf('=');
      const name = spec.slice(0, eq);
      if (eq <= 0 || !(name in PRESETS)) throw new UsageError(`--model-file expects preset=file, got '${spec}'`);
      modelFiles[name as PresetName] = path.resolve(spec.slice(eq + 1));
    }
    const browserBackends = list(v['browser-backends']);
    for (const b of browserBackends ?? []) {
      if (!(BROWSER_BACKEND_NAMES as readonly string[]).includes(b)) throw new UsageError(`unknown browser backend '${b}'; expected one of ${BROWSER_BACKEND_NAMES.join(', ')}`);
    }
    if (browserBackends && !v.browser) throw new UsageError('--browser-backends needs --browser');
    const raw = positiveNumber('--tolerance', v.tolerance);
    const det = positiveNumber('--det-tolerance', v['det-tolerance']);
    options = {
      presets: presets as PresetName[],
      backends: backends as BackendName[] | undefined,
      tolerances: {
        ...(raw === undefined ? {} : { rawMaxErr: raw }),
        ...(det === undefined ? {} : { detectionCoord: det, detectionScore: det }),
      },
      inputs: { randomCount: count('--random', v.random) ?? (v.fast ? 2 : 8) },
      runs: count('--runs', v.runs) ?? (v.fast ? 1 : 3),
      artifactsRoot: v.artifacts ? path.resolve(v.artifacts) : undefined,
      modelFiles,
      log: (line: string) => console.error(line),
      browserBackends: browserBackends as BrowserBackendName[] | undefined,
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  // The browser session (server + Chromium) lives for the whole run: one page serves every preset.
  const { openBrowserVerify } = v.browser ? await import('../../verify/browser.js') : { openBrowserVerify: null };
  const session = openBrowserVerify ? await openBrowserVerify({ backends: options.browserBackends, artifactsRoot: options.artifactsRoot }) : null;
  let result;
  try {
    result = await runVerify({ ...options, extraBackends: session ? (ctx) => session.verifyPreset(ctx) : undefined });
    if (session) result.report.browser = session.info;
  } finally {
    await session?.close();
  }
  const out = path.resolve(v.out ?? DEFAULT_PARITY_DIR);
  const files = await writeReports(result, out);
  console.log(summaryTable(result.report));
  if (result.report.browser) {
    const b = result.report.browser;
    console.log(`browser: ${b.name} ${b.version} (headless), WebGL renderer: ${b.webglRenderer ?? 'none'}`);
  }
  console.log(`\nreports: ${files.json}\n         ${files.md}\n         ${files.html}`);
  return result.report.summary.pass ? 0 : 1;
}

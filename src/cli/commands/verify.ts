// `blazeface verify`: every backend against the float64 reference on every preset; writes
// artifacts/parity/report.{json,md,html} and ends with a summary table on stdout (progress on stderr).
import path from 'node:path';
import { BACKEND_NAMES, type BackendName } from '../../backends/backend.js';
import { PACKAGED_PRESETS, PRESETS } from '../../presets/index.js';
import type { PresetName } from '../../presets/types.js';
import { DEFAULT_TOLERANCES } from '../../verify/compare.js';
import { summaryTable } from '../../verify/report-text.js';
import { runVerify } from '../../verify/verify.js';
import { BROWSER_BACKEND_NAMES, type BrowserBackendName } from '../../browser/backends/types.js';
import { DEFAULT_PARITY_DIR, writeReports } from '../../verify/write.js';
import { choiceOption, EXIT, listOption, numberOption, parseCommand, pathOption, presetNames, UsageError, withUsage } from '../args.js';

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

export async function run(argv: string[]): Promise<number> {
  return withUsage(USAGE, async () => {
    const parsed = parseCommand(argv, USAGE, {
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
    });
    if (!parsed) return EXIT.ok;
    const v = parsed.values;
    const presets = v.presets !== undefined ? presetNames('--presets', [v.presets]) : [...PACKAGED_PRESETS];
    const backends = v.backends !== undefined ? listOption('--backends', v.backends) : undefined;
    for (const b of backends ?? []) choiceOption('--backends', b, BACKEND_NAMES);
    const modelFiles: Partial<Record<PresetName, string>> = {};
    for (const spec of v['model-file'] ?? []) {
      const eq = spec.indexOf('=');
      const name = spec.slice(0, eq);
      if (eq <= 0 || !(name in PRESETS) || spec.slice(eq + 1).trim() === '') throw new UsageError(`--model-file expects preset=file, got '${spec}'`);
      modelFiles[name as PresetName] = path.resolve(spec.slice(eq + 1));
    }
    const browserBackends = v['browser-backends'] !== undefined ? listOption('--browser-backends', v['browser-backends']) : undefined;
    for (const b of browserBackends ?? []) choiceOption('--browser-backends', b, BROWSER_BACKEND_NAMES);
    if (browserBackends && !v.browser) throw new UsageError('--browser-backends needs --browser');
    const raw = numberOption('--tolerance', v.tolerance, { min: 0 });
    const det = numberOption('--det-tolerance', v['det-tolerance'], { min: 0 });
    const artifacts = pathOption('--artifacts', v.artifacts);
    const options = {
      presets,
      backends: backends as BackendName[] | undefined,
      tolerances: {
        ...(raw === undefined ? {} : { rawMaxErr: raw }),
        ...(det === undefined ? {} : { detectionCoord: det, detectionScore: det }),
      },
      inputs: { randomCount: numberOption('--random', v.random, { min: 0, integer: true }) ?? (v.fast ? 2 : 8) },
      runs: numberOption('--runs', v.runs, { min: 0, integer: true }) ?? (v.fast ? 1 : 3),
      artifactsRoot: artifacts ? path.resolve(artifacts) : undefined,
      modelFiles,
      log: (line: string) => console.error(line),
      browserBackends: browserBackends as BrowserBackendName[] | undefined,
    };
    return verify(options, pathOption('--out', v.out), v.browser);
  });
}

async function verify(options: Parameters<typeof runVerify>[0] & { browserBackends?: BrowserBackendName[] }, outDir: string | undefined, browser: boolean): Promise<number> {
  // The browser session (server + Chromium) lives for the whole run: one page serves every preset.
  const { openBrowserVerify } = browser ? await import('../../verify/browser.js') : { openBrowserVerify: null };
  const session = openBrowserVerify ? await openBrowserVerify({ backends: options.browserBackends, artifactsRoot: options.artifactsRoot }) : null;
  let result;
  try {
    result = await runVerify({ ...options, extraBackends: session ? (ctx) => session.verifyPreset(ctx) : undefined });
    if (session) result.report.browser = session.info;
  } finally {
    await session?.close();
  }
  const out = path.resolve(outDir ?? DEFAULT_PARITY_DIR);
  const files = await writeReports(result, out);
  console.log(summaryTable(result.report));
  if (result.report.browser) {
    const b = result.report.browser;
    console.log(`browser: ${b.name} ${b.version} (headless), WebGL renderer: ${b.webglRenderer ?? 'none'}`);
  }
  console.log(`\nreports: ${files.json}\n         ${files.md}\n         ${files.html}`);
  return result.report.summary.pass ? EXIT.ok : EXIT.failure;
}

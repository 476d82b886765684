// `verify --browser`: the browser backends in headless Chromium, on the same batch as the Node rows,
// compared with the same float64 reference by the same code (./compare.ts). The page (src/browser/
// harness.ts, bundled here with esbuild) fetches the artifacts, the runtimes' wasm files and the batch
// from a 127.0.0.1 server, and hands the raw outputs back as base64 float32.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RawOutputs } from '../backends/backend.js';
import { BROWSER_BACKEND_NAMES, type BrowserBackendName } from '../browser/backends/types.js';
import { bundleToString } from '../devserver/bundle.js';
import { launchChromium } from '../devserver/chromium.js';
import { runtimeMounts, runtimeWasmPaths } from '../devserver/runtime-files.js';
import { startStaticServer, type StaticServer } from '../devserver/static-server.js';
import { DEFAULT_ARTIFACTS_ROOT } from '../artifacts/manifest.js';
import { REPO_ROOT } from '../fixtures.js';
import { installedPackageVersion } from '../version.js';
import { compareOutputs } from './compare.js';
import type { BackendReport, BackendRun, BrowserInfo } from './report-types.js';
import type { ExtraBackendsContext } from './verify.js';
import { measureTimes, worstDetectionOf, worstOf } from './verify.js';

/** Browser rows are named `browser:<backend>` beside the Node rows. */
export const BROWSER_ROW_PREFIX = 'browser:';

/** A first run slower than this is not repeated for timing (as for the Node rows). */
const SLOW_RUN_MS = 1500;

const HARNESS_HTML = `<!doctype html><meta charset="utf-8"><title>blazeface verify harness</title><script type="module" src="/harness.js"></script>`;

export interface BrowserVerifySession {
  readonly info: BrowserInfo;
  /** Rows for one preset, one per browser backend. */
  verifyPreset(ctx: ExtraBackendsContext): Promise<BackendReport[]>;
  close(): Promise<void>;
}

interface HarnessRun {
  regressors: string;
  classificators: string;
  batch: number;
  numAnchors: number;
  numCoords: number;
  firstMs: number;
  times: number[];
}

function float32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function errorText(err: unknown): string {
  // Playwright prefixes page errors with 'page.evaluate: Error: '; keep the page's own message.
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0]!;
}

/**
 * A browser backend's row from its raw outputs: the Node rows' comparison (same tolerances, same
 * messages naming the worst element) plus the faces-level verdict beside it.
 */
export function browserRow(
  row: string,
  ctx: Pick<ExtraBackendsContext, 'preset' | 'inputs' | 'tolerances' | 'ref' | 'decode' | 'refDetections' | 'batch'>,
  got: RawOutputs,
  meta: Pick<BackendRun, 'version' | 'runs' | 'artifact' | 'notes' | 'timing'>,
): BackendRun {
  const comparison = compareOutputs(ctx.ref, got, ctx.inputs, ctx.tolerances, {
    preset: ctx.preset.name,
    backend: row,
    decode: ctx.decode,
    refDetections: ctx.refDetections,
  });
  return {
    backend: row,
    status: comparison.pass ? 'pass' : 'fail',
    ...meta,
    batch: ctx.batch.shape[0],
    worst: worstOf(comparison.inputs),
    worstDetection: worstDetectionOf(comparison.inputs),
    // Every input's decoded faces equal in number and within the detection tolerances, whatever the raw verdict.
    detectionsAgree: comparison.inputs.every((r) => r.detections?.pass ?? false),
    inputs: comparison.inputs,
    detections: comparison.gotDetections ?? [],
    failures: comparison.failures,
  };
}

export async function openBrowserVerify(opts: {
  backends?: readonly BrowserBackendName[];
  artifactsRoot?: string;
} = {}): Promise<BrowserVerifySession> {
  const backends = opts.backends ?? BROWSER_BACKEND_NAMES;
  const artifactsRoot = opts.artifactsRoot ?? DEFAULT_ARTIFACTS_ROOT;
  const harnessJs = await bundleToString(path.join(REPO_ROOT, 'src', 'browser', 'harness.ts'));
  let server: StaticServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startStaticServer({ mounts: { '/artifacts/': artifactsRoot, ...runtimeMounts() } });
    server.setMemory('/harness.js', harnessJs);
    server.setMemory('/index.html', HARNESS_HTML);
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => '__blazefaceHarness' in globalThis, undefined, { timeout: 30_000 });
    const pageInfo = await page.evaluate(() => (globalThis as any).__blazefaceHarness.info());
    const info: BrowserInfo = {
      name: 'chromium',
      version: browser.version(),
      userAgent: pageInfo.userAgent,
      webglRenderer: pageInfo.webglRenderer,
      webglVersion: pageInfo.webglVersion,
      crossOriginIsolated: pageInfo.crossOriginIsolated,
    };
    const srv = server;
    const tag = `Chromium ${info.version}`;
    let batchCounter = 0;

    async function one(name: BrowserBackendName, ctx: ExtraBackendsContext, batchUrl: string, modelUrl: string): Promise<BackendReport> {
      const row = `${BROWSER_ROW_PREFIX}${name}`;
      const label = `${ctx.preset.name} / ${row}`;
      const availability = await page.evaluate((n) => (globalThis as any).__blazefaceHarness.availability(n), name);
      if (!availability.available) return { backend: row, status: 'unavailable', reason: `${availability.reason} (${tag})` };
      let loaded: { version: string; artifact: string; notes: string[]; runs: string; loadMs: number } | { unavailable: string };
      try {
        loaded = await page.evaluate(
          ([n, preset, urls]) => (globalThis as any).__blazefaceHarness.load(n, preset, urls),
          [name, ctx.preset.name, { artifactsUrl: `${srv.url}/artifacts`, modelUrl, wasmPaths: runtimeWasmPaths(srv.url) }] as const,
        );
      } catch (err) {
        const error = errorText(err);
        return { backend: row, status: 'error', stage: 'load', error, failures: [`${label}: cannot load: ${error}`] };
      }
      if ('unavailable' in loaded) return { backend: row, status: 'unavailable', reason: `${loaded.unavailable.replace(srv.url, '<server>')} (${tag})` };
      let out: HarnessRun;
      try {
        out = await page.evaluate(
          ([url, shape, runs, slow]) => (globalThis as any).__blazefaceHarness.run(url, shape, runs, slow),
          [batchUrl, [...ctx.batch.shape], ctx.runs, SLOW_RUN_MS] as const,
        );
      } catch (err) {
        const error = errorText(err);
        return { backend: row, status: 'error', stage: 'run', error, failures: [`${label}: run failed: ${error}`] };
      } finally {
        await page.evaluate(() => (globalThis as any).__blazefaceHarness.dispose()).catch(() => undefined);
      }
      const got: RawOutputs = {
        regressors: float32(out.regressors),
        classificators: float32(out.classificators),
        batch: out.batch,
        numAnchors: out.numAnchors,
        numCoords: out.numCoords,
      };
      return browserRow(row, ctx, got, {
        // The TFLite web API reports no version; the page was bundled from the installed package.
        version: `${name === 'tflite' ? `@tensorflow/tfjs-tflite ${installedPackageVersion('@tensorflow/tfjs-tflite') ?? '?'} (WebAssembly)` : loaded.version} in ${tag}`,
        runs: loaded.runs,
        artifact: loaded.artifact.replace(srv.url, '<server>'),
        notes: [...loaded.notes, `browser: ${info.userAgent}`, `WebGL renderer: ${info.webglRenderer ?? 'none'}`, 'timings measured inside the page'],
        timing: measureTimes(out.times, out.firstMs, loaded.loadMs, ctx.batch.shape[0]),
      });
    }

    return {
      info,
      async verifyPreset(ctx) {
        const batchUrl = `/batch/${batchCounter++}.f32`;
        const b = ctx.batch.data;
        srv.setMemory(batchUrl, new Uint8Array(b.buffer, b.byteOffset, b.byteLength), 'application/octet-stream');
        const modelUrl = `/models/${ctx.preset.name}/${path.basename(ctx.source.tflitePath)}`;
        srv.setMemory(modelUrl, ctx.source.tfliteBytes, 'application/octet-stream');
        const rows: BackendReport[] = [];
        for (const name of backends) {
          let row: BackendReport;
          try {
            row = await one(name, ctx, `${srv.url}${batchUrl}`, `${srv.url}${modelUrl}`);
          } catch (err) {
            const error = errorText(err);
            row = { backend: `${BROWSER_ROW_PREFIX}${name}`, status: 'error', stage: 'load', error, failures: [`${ctx.preset.name} / ${BROWSER_ROW_PREFIX}${name}: ${error}`] };
          }
          if (pageErrors.length > 0 && row.status === 'error') row.failures.push(...pageErrors.splice(0).map((e) => `page error: ${e}`));
          rows.push(row);
        }
        return rows;
      },
      async close() {
        await browser?.close();
        await srv.close();
      },
    };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    throw err;
  }
}

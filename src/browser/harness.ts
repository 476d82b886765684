// The page side of `npm run verify -- --browser` (bundled by src/verify/browser.ts, served from
// 127.0.0.1): loads one browser backend at a time, runs the verifier's batch through it and hands the
// raw outputs back as base64 float32, with the browser's identity and in-page timings.
import { BackendUnavailableError } from '../errors.js';
import { openArtifacts } from './artifacts.js';
import { getBrowserBackendFactory, type BrowserBackend, type WasmPaths } from './backends/index.js';
import { getPreset } from '../presets/index.js';
import type { PresetName } from '../presets/types.js';

function base64(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function webgl(): { renderer: string | null; version: string | null } {
  try {
    const canvas = document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return { renderer: null, version: null };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    return { renderer, version: String(gl.getParameter(gl.VERSION)) };
  } catch {
    return { renderer: null, version: null };
  }
}

let current: BrowserBackend | null = null;

/** Errors cross to Node as text only: keep the class name and the toolkit's code in it. */
function describe(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: unknown }).code;
  return new Error(`${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`);
}

const harness = {
  info() {
    const gl = webgl();
    return { userAgent: navigator.userAgent, webglRenderer: gl.renderer, webglVersion: gl.version, crossOriginIsolated: globalThis.crossOriginIsolated === true };
  },
  async availability(name: string) {
    return getBrowserBackendFactory(name).availability();
  },
  async load(name: string, preset: PresetName, urls: { artifactsUrl: string; modelUrl?: string; wasmPaths: WasmPaths }) {
    await harness.dispose();
    const factory = getBrowserBackendFactory(name);
    const t0 = performance.now();
    const artifacts = await openArtifacts(urls.artifactsUrl, preset).catch((err: unknown) => {
      throw describe(err);
    });
    try {
      current = await factory.load({ preset: getPreset(preset), artifacts, modelUrl: urls.modelUrl, wasmPaths: urls.wasmPaths });
    } catch (err) {
      // The runtime is here but cannot hold this model: a reason, not a failure (as for Node's rows).
      if (err instanceof BackendUnavailableError) return { unavailable: err.message };
      throw describe(err);
    }
    return { version: current.version, artifact: current.artifact, notes: [...current.notes], runs: factory.runs, loadMs: performance.now() - t0 };
  },
  /** The compared run, then `timedRuns` more unless the first took longer than `slowMs`. */
  async run(batchUrl: string, shape: [number, number, number, number], timedRuns: number, slowMs: number) {
    if (!current) throw new Error('harness: no backend loaded');
    const res = await fetch(batchUrl);
    if (!res.ok) throw new Error(`harness: HTTP ${res.status} for ${batchUrl}`);
    const data = new Float32Array(await res.arrayBuffer());
    const batch = { data, shape };
    let t0 = performance.now();
    const out = await current.run(batch).catch((err: unknown) => {
      throw describe(err);
    });
    const firstMs = performance.now() - t0;
    const times: number[] = [];
    if (firstMs < slowMs) {
      for (let i = 0; i < timedRuns; i++) {
        t0 = performance.now();
        await current.run(batch);
        times.push(performance.now() - t0);
      }
    }
    return {
      regressors: base64(Float32Array.from(out.regressors)),
      classificators: base64(Float32Array.from(out.classificators)),
      batch: out.batch,
      numAnchors: out.numAnchors,
      numCoords: out.numCoords,
      firstMs,
      times,
    };
  },
  async dispose() {
    const b = current;
    current = null;
    if (b) await b.dispose();
  },
};

(globalThis as unknown as { __blazefaceHarness: typeof harness }).__blazefaceHarness = harness;

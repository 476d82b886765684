// verify --browser, fast: every browser backend in headless Chromium on short_range (seed photos, the
// tfjs-models face; without the seed folder, the face and one random image), compared with the float64 reference by the verifier's own code.
// Plus the integrity check: a tampered model.onnx served to the page is refused with ARTIFACT_CHECKSUM.
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACTS_ROOT } from '../src/artifacts/manifest.js';
import { chromiumMissingReason } from '../src/devserver/chromium.js';
import { REPO_ROOT, seedDir } from '../src/fixtures.js';
import { openBrowserVerify } from '../src/verify/browser.js';
import { summaryTable } from '../src/verify/report-text.js';
import type { BackendReport, ParityReport } from '../src/verify/report-types.js';
import { runVerify } from '../src/verify/verify.js';
import { validateJsonSchema } from './helpers/json-schema.js';

const CHROMIUM = chromiumMissingReason();
const SCHEMA = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', 'parity-report.schema.json'), 'utf8')) as Record<string, unknown>;

const row = (report: ParityReport, name: string): BackendReport => {
  const r = report.presets[0]!.backends.find((b) => b.backend === name);
  if (!r) throw new Error(`no row ${name}`);
  return r;
};

describe.skipIf(CHROMIUM !== null)(`verify --browser (headless Chromium)${CHROMIUM ? ` (skipped: ${CHROMIUM})` : ''}`, () => {
  let report: ParityReport;
  beforeAll(async () => {
    const session = await openBrowserVerify();
    try {
      const result = await runVerify({
        presets: ['short_range'],
        backends: ['reference'], // no Node rows: the Node backends have their own gate
        inputs: { randomCount: seedDir() ? 0 : 1 },
        runs: 0,
        extraBackends: (ctx) => session.verifyPreset(ctx),
      });
      report = { ...result.report, browser: session.info };
    } finally {
      await session.close();
    }
  }, 240_000);

  it('tfjs (webgl, wasm, cpu), onnxruntime-web (wasm) and the official TFLite runtime pass at 1e-4 with the faces agreeing', () => {
    for (const name of ['tfjs-webgl', 'tfjs-wasm', 'tfjs-cpu', 'onnxruntime-web-wasm', 'tflite']) {
      const r = row(report, `browser:${name}`);
      expect(r.status, `${name}: ${'failures' in r ? r.failures.join('; ') : ''}`).toBe('pass');
      if (r.status !== 'pass') continue;
      expect(r.worst.maxErr).toBeLessThanOrEqual(1e-4);
      expect(r.detectionsAgree).toBe(true);
      expect(r.version).toMatch(/ in Chromium \d+/);
      expect(r.batch).toBe(report.inputs.length);
    }
  });

  it('what this browser cannot offer is unavailable with the reason, not failed', () => {
    for (const name of ['tfjs-webgpu', 'onnxruntime-web-webgpu', 'onnxruntime-web-webgl']) {
      const r = row(report, `browser:${name}`);
      if (r.status === 'unavailable') expect(r.reason.length).toBeGreaterThan(10);
      else expect(r.status, name).toBe('pass'); // a browser with WebGPU runs it for real
    }
    expect(report.summary.failed).toBe(0);
  });

  it('records the browser and its WebGL renderer, and the report satisfies the schema', () => {
    expect(report.browser!.version).toMatch(/^\d+\./);
    expect(report.browser!.userAgent).toMatch(/Chrome/);
    expect(report.browser!.webglRenderer ?? '').toMatch(/SwiftShader|ANGLE|Mesa|llvmpipe/i);
    expect(validateJsonSchema(SCHEMA, JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(summaryTable(report)).toMatch(/browser:tfjs-wasm\s+PASS/);
  });
});

describe.skipIf(CHROMIUM !== null)(`browser artifacts are checked against the manifest${CHROMIUM ? ` (skipped: ${CHROMIUM})` : ''}`, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'bf-tamper-'));
    await copyFile(path.join(DEFAULT_ARTIFACTS_ROOT, 'manifest.json'), path.join(root, 'manifest.json'));
    await cp(path.join(DEFAULT_ARTIFACTS_ROOT, 'short_range'), path.join(root, 'short_range'), { recursive: true });
    const onnx = path.join(root, 'short_range', 'model.onnx');
    const bytes = await readFile(onnx);
    bytes[bytes.length - 7]! ^= 0x01; // one bit of one weight
    await writeFile(onnx, bytes);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a flipped bit in model.onnx is ArtifactIntegrityError ARTIFACT_CHECKSUM in the page; the untouched tfjs model still passes', async () => {
    const session = await openBrowserVerify({ backends: ['onnxruntime-web-wasm', 'tfjs-wasm'], artifactsRoot: root });
    let rows: BackendReport[];
    try {
      const result = await runVerify({
        presets: ['short_range'],
        backends: ['reference'],
        inputs: { randomCount: 1, seedPhotos: false },
        runs: 0,
        artifactsRoot: root,
        extraBackends: (ctx) => session.verifyPreset(ctx),
      });
      rows = result.report.presets[0]!.backends;
    } finally {
      await session.close();
    }
    const ort = rows.find((b) => b.backend === 'browser:onnxruntime-web-wasm')!;
    expect(ort.status).toBe('error');
    if (ort.status === 'error') {
      expect(ort.stage).toBe('load');
      expect(ort.error).toMatch(/^ArtifactIntegrityError ARTIFACT_CHECKSUM: .*short_range\/model\.onnx: sha256 [0-9a-f]{64} .* does not match/);
    }
    expect(rows.find((b) => b.backend === 'browser:tfjs-wasm')!.status).toBe('pass');
  });
});

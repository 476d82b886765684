// Browser-side pieces that run under Node too (Node 20 has fetch and SubtleCrypto): manifest-checked
// artifact fetching against the 127.0.0.1 static server, raw-pixel inputs, the backend registry.
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACTS_ROOT } from '../src/artifacts/manifest.js';
import { openArtifacts, sha256HexBrowser } from '../src/browser/artifacts.js';
import { getBrowserBackendFactory } from '../src/browser/backends/index.js';
import { browserPixels } from '../src/browser/pixels.js';
import { startStaticServer, type StaticServer } from '../src/devserver/static-server.js';
import { ArtifactIntegrityError } from '../src/errors.js';
import { getPreset } from '../src/presets/index.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { sha256Hex } from '../src/util/fs.js';
import { browserRow } from '../src/verify/browser.js';
import { presetDecoder } from '../src/verify/decode.js';
import { summaryTable } from '../src/verify/report-text.js';
import { measureTimes } from '../src/verify/verify.js';

let root: string;
let server: StaticServer;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bf-browser-unit-'));
  await copyFile(path.join(DEFAULT_ARTIFACTS_ROOT, 'manifest.json'), path.join(root, 'manifest.json'));
  await cp(path.join(DEFAULT_ARTIFACTS_ROOT, 'short_range'), path.join(root, 'short_range'), { recursive: true });
  const json = path.join(root, 'short_range', 'tfjs', 'model.json');
  await writeFile(json, (await readFile(json, 'utf8')).replace('"graph-model"', '"graph-model" '));
  server = await startStaticServer({ mounts: { '/a/': root }, files: { '/model.tflite': resolvePresetModelFile(getPreset('short_range')) } });
  server.setMemory('/wrong.tflite', new Uint8Array([1, 2, 3]));
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('openArtifacts (fetch + SubtleCrypto sha256 against the manifest)', () => {
  it('hashes like node:crypto', async () => {
    const bytes = new TextEncoder().encode('blazeface');
    expect(await sha256HexBrowser(bytes, 'x')).toBe(sha256Hex(bytes));
  });

  it('returns verified bytes of listed files and the source model', async () => {
    const a = await openArtifacts(`${server.url}/a`, 'short_range');
    const onnx = await a.file('model.onnx');
    expect(onnx.bytes).toEqual(new Uint8Array(await readFile(path.join(root, 'short_range', 'model.onnx'))));
    expect((await a.sourceModel(`${server.url}/model.tflite`)).byteLength).toBeGreaterThan(100_000);
  });

  it('refuses a changed file, an unlisted file, a missing file, a missing preset and a different model, with typed codes', async () => {
    const a = await openArtifacts(`${server.url}/a`, 'short_range');
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e instanceof ArtifactIntegrityError ? e.code : `untyped: ${String(e)}`),
      );
    expect(await codeOf(a.file('tfjs/model.json'))).toBe('ARTIFACT_CHECKSUM');
    expect(await codeOf(a.file('extra.bin'))).toBe('ARTIFACT_MISSING');
    expect(await codeOf(a.sourceModel(`${server.url}/wrong.tflite`))).toBe('SOURCE_MISMATCH');
    expect(await codeOf(a.sourceModel(`${server.url}/nothing.tflite`))).toBe('ARTIFACT_MISSING');
    expect(await codeOf(openArtifacts(`${server.url}/a`, 'front'))).toBe('PRESET_NOT_CONVERTED');
    expect(await codeOf(openArtifacts(`${server.url}/nowhere`, 'short_range'))).toBe('ARTIFACT_MISSING');
    await expect(a.file('tfjs/model.json')).rejects.toThrow(/tfjs\/model\.json: sha256 [0-9a-f]{64} .* does not match .*manifest\.json/);
  });
});

describe('static server', () => {
  it('serves mounted files with their types, 404s outside the mounts, GET/HEAD only', async () => {
    const res = await fetch(`${server.url}/a/manifest.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    for (const p of ['/a/%2e%2e/manifest.json', '/a/..%2f..%2fetc%2fpasswd', '/nothing']) expect((await fetch(`${server.url}${p}`)).status, p).toBe(404);
    expect((await fetch(`${server.url}/a/manifest.json`, { method: 'POST' })).status).toBe(405);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('browser inputs and registry', () => {
  it('raw pixels: RGB or RGBA from the length, a typed error when it fits neither', () => {
    expect(browserPixels({ data: new Uint8Array(2 * 3 * 3), width: 2, height: 3 }, 'rgb').channels).toBe(3);
    expect(browserPixels({ data: new Uint8ClampedArray(2 * 3 * 4), width: 2, height: 3 }, 'rgba').channels).toBe(4);
    expect(() => browserPixels({ data: new Uint8Array(20), width: 2, height: 3 }, 'odd')).toThrow(expect.objectContaining({ code: 'IMAGE_RAW_LENGTH', file: 'odd' }));
    expect(() => browserPixels({ data: new Float32Array(18) as unknown as Uint8Array, width: 2, height: 3 }, 'f')).toThrow(expect.objectContaining({ code: 'IMAGE_RAW_TYPE' }));
    expect(() => browserPixels({ data: new Uint8Array(0), width: 0, height: 3 }, 'z')).toThrow(expect.objectContaining({ code: 'IMAGE_SIZE' }));
    expect(() => browserPixels(42 as never, 'n')).toThrow(expect.objectContaining({ code: 'IMAGE_INPUT_TYPE' }));
  });

  it('names backends, with onnxruntime-web meaning its wasm EP, and refuses unknown ones', () => {
    expect(getBrowserBackendFactory('onnxruntime-web').name).toBe('onnxruntime-web-wasm');
    expect(getBrowserBackendFactory('tflite').runs).toBe('tflite');
    expect(() => getBrowserBackendFactory('tfjs-node')).toThrow(expect.objectContaining({ code: 'UNKNOWN_BACKEND' }));
  });
});

describe('browser rows of verify --browser (browserRow)', () => {
  // A synthetic reference: one confident anchor (a face), every other anchor background.
  const preset = getPreset('short_range');
  const A = preset.decode.numBoxes, C = preset.decode.numCoords;
  const ref = { regressors: new Float32Array(A * C), classificators: new Float32Array(A).fill(-10), batch: 1, numAnchors: A, numCoords: C };
  ref.regressors.set([0, 0, 20, 20], 100 * C);
  ref.classificators[100] = 5;
  const decode = presetDecoder(preset);
  const ctx = {
    preset,
    inputs: [{ name: 'synthetic' }] as never,
    tolerances: { rawMaxErr: 1e-4, detectionCoord: 1e-5, detectionScore: 1e-5 },
    ref,
    decode,
    refDetections: decode(ref),
    batch: { data: new Float32Array(128 * 128 * 3), shape: [1, 128, 128, 3] as const },
  };
  const meta = { version: 'test', runs: 'model.onnx', artifact: 'x', notes: [], timing: measureTimes([1], 1, 1, 1) };

  it('a raw miss far from any face fails at 1e-4 with the Node message, and says the faces agree', () => {
    const got = { ...ref, regressors: Float32Array.from(ref.regressors), classificators: Float32Array.from(ref.classificators) };
    got.regressors[500 * C + 7] = 1e-3;
    const row = browserRow('browser:test', ctx, got, meta);
    expect(row.status).toBe('fail');
    expect(row.detectionsAgree).toBe(true);
    expect(row.failures[0]).toBe('short_range / browser:test / synthetic / regressors[0, 500, 7]: |diff| 0.001 > 1e-4*(1+|ref|) (ref 0, got 0.001); 1 of 14336 values out of tolerance');
    expect(summaryTable({ schemaVersion: 1, tool: { name: 't', version: '0' }, tolerances: ctx.tolerances, inputs: [], presets: [{ preset: 'short_range', backends: [row], reference: null, error: null } as never], summary: { pass: false, passed: 0, failed: 1, unavailable: 0, failures: [] } })).toMatch(/browser:test\s+FAIL.*faces agree/);
  });

  it('a lost face makes the faces differ', () => {
    const got = { ...ref, classificators: Float32Array.from(ref.classificators) };
    got.classificators[100] = -3;
    const row = browserRow('browser:test', ctx, got, meta);
    expect(row.status).toBe('fail');
    expect(row.detectionsAgree).toBe(false);
    expect(row.worstDetection.countMismatches).toBe(1);
  });
});

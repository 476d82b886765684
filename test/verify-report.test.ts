// The verifier end to end with the real float64 reference and in-memory stand-in backends (one per
// outcome: pass, fail, error, unavailable), then the three reports: schema, content, determinism.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendFactory, BackendName, ImageBatch, RawOutputs } from '../src/backends/backend.js';
import { getBackendFactory } from '../src/backends/index.js';
import { BackendUnavailableError } from '../src/errors.js';
import { REPO_ROOT } from '../src/fixtures.js';
import { loadModelSource } from '../src/model-source.js';
import { getPreset } from '../src/presets/index.js';
import { loadVerifyInputs, prepareInputs, type VerifyInput } from '../src/verify/inputs.js';
import { markdownReport, summaryTable } from '../src/verify/report-text.js';
import type { BackendRun, ParityReport } from '../src/verify/report-types.js';
import { runVerify, type VerifyResult } from '../src/verify/verify.js';
import { reportJson, writeReports } from '../src/verify/write.js';
import { validateJsonSchema } from './helpers/json-schema.js';

const SCHEMA = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', 'parity-report.schema.json'), 'utf8')) as Record<string, unknown>;
const preset = getPreset('short_range');
let inputs: VerifyInput[];
let refOut: RawOutputs;
let result: VerifyResult;
let second: VerifyResult;
const dirs: string[] = [];

/** Index of regressors[n=1, anchor 600, coord 2], the element the failing stand-in corrupts. */
const BAD = 1 * preset.decode.numBoxes * 16 + 600 * 16 + 2;

function standIn(name: BackendName, transform: (raw: RawOutputs) => RawOutputs, notes: string[] = []): BackendFactory {
  return {
    name,
    runs: 'model.onnx',
    availability: async () => ({ available: true }),
    load: async (): Promise<Backend> => ({
      name,
      version: `${name}-standin 1.0`,
      artifact: 'in-memory stand-in',
      notes,
      run: async (batch: ImageBatch) => {
        expect(batch.shape[0]).toBe(inputs.length);
        return transform(refOut);
      },
      dispose: async () => {},
    }),
  };
}

const f32 = (raw: RawOutputs): RawOutputs => ({ ...raw, regressors: Float32Array.from(raw.regressors), classificators: Float32Array.from(raw.classificators) });

async function factories(name: BackendName): Promise<BackendFactory> {
  switch (name) {
    case 'onnxruntime-node':
      return standIn(name, f32, ['float32 copy of the reference']);
    case 'onnxruntime-web':
      return standIn(name, (raw) => {
        const out = f32(raw);
        (out.regressors as Float32Array)[BAD] += 0.5 * (1 + Math.abs(raw.regressors[BAD]!));
        return out;
      });
    case 'tfjs-wasm':
      return { name, runs: 'tfjs/model.json', availability: async () => ({ available: false, reason: 'stand-in: not installed' }), load: async () => Promise.reject(new Error('unreachable')) };
    case 'tfjs-cpu':
      return { name, runs: 'tfjs/model.json', availability: async () => ({ available: true }), load: async () => Promise.reject(new Error('stand-in: model.json is corrupt')) };
    case 'torch':
      return {
        name,
        runs: 'blazeface.pth',
        availability: async () => ({ available: true }),
        load: async () => Promise.reject(new BackendUnavailableError('NO_TORCH_ARCHITECTURE', 'stand-in: no module layout for this preset')),
      };
    default:
      return getBackendFactory(name);
  }
}

function withoutTiming(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTiming);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'timing').map(([k, v]) => [k, withoutTiming(v)]));
  }
  return value;
}

beforeAll(async () => {
  inputs = await loadVerifyInputs({ randomCount: 1 });
  const source = await loadModelSource(preset, { verifyArtifacts: false });
  const reference = await (await getBackendFactory('reference')).load(source);
  refOut = await reference.run((await prepareInputs(inputs, preset)).batch);
  await reference.dispose();
  const options = {
    presets: ['short_range'] as const,
    backends: ['onnxruntime-node', 'onnxruntime-web', 'tfjs-wasm', 'tfjs-cpu', 'torch'] as BackendName[],
    inputs,
    runs: 1,
    getFactory: factories,
  };
  result = await runVerify(options);
  second = await runVerify(options);
}, 180_000);

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('runVerify', () => {
  it('records one outcome per backend', () => {
    const p = result.report.presets[0]!;
    expect(p.preset).toBe('short_range');
    expect(p.error).toBeNull();
    expect(p.backends.map((b) => [b.backend, b.status])).toEqual([
      ['onnxruntime-node', 'pass'],
      ['onnxruntime-web', 'fail'],
      ['tfjs-wasm', 'unavailable'],
      ['tfjs-cpu', 'error'],
      ['torch', 'unavailable'],
    ]);
    expect(p.pass).toBe(false);
    expect(result.report.summary).toMatchObject({ pass: false, passed: 1, failed: 2, unavailable: 2 });
    const torch = p.backends[4]!;
    expect(torch.status === 'unavailable' && torch.reason).toContain('no module layout');
  });

  it('names preset / backend / input / tensor[index] in the failure and locates the worst element', () => {
    const web = result.report.presets[0]!.backends[1] as BackendRun;
    const bad = inputs[1]!.name;
    expect(web.failures[0]).toMatch(
      new RegExp(`^short_range / onnxruntime-web / ${bad.replace('.', '\\.')} / regressors\\[0, 600, 2\\]: \\|diff\\| \\S+ > 1e-4\\*\\(1\\+\\|ref\\|\\)`),
    );
    expect(web.worst).toMatchObject({ input: bad, tensor: 'regressors', at: { anchor: 600, coord: 2 } });
    expect(web.worst.maxErr!).toBeCloseTo(0.5, 5);
    expect(web.inputs.filter((r) => !r.pass).map((r) => r.input)).toEqual([bad]);
    expect(result.report.summary.failures).toContain('short_range / tfjs-cpu: cannot load: stand-in: model.json is corrupt');
  });

  it('the float32 copy of the oracle agrees to float32 rounding, faces included', () => {
    const ok = result.report.presets[0]!.backends[0] as BackendRun;
    expect(ok.worst.maxErr!).toBeLessThan(1e-6);
    expect(ok.worstDetection.countMismatches).toBe(0);
    expect(ok.detections.map((d) => d.length)).toEqual(result.report.presets[0]!.reference!.detections.map((d) => d.length));
    expect(ok.notes).toEqual(['float32 copy of the reference']);
    expect(ok.runs).toBe('model.onnx');
    expect(ok.timing.runs).toBeGreaterThanOrEqual(1);
  });

  it('is deterministic apart from timing', () => {
    expect(withoutTiming(JSON.parse(reportJson(second.report)))).toEqual(withoutTiming(JSON.parse(reportJson(result.report))));
  });
});

describe('reports', () => {
  let files: { json: string; md: string; html: string };
  let report: ParityReport;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parity-report-'));
    dirs.push(dir);
    files = await writeReports(result, dir);
    report = JSON.parse(await readFile(files.json, 'utf8')) as ParityReport;
  });

  it('report.json satisfies schemas/parity-report.schema.json', () => {
    expect(validateJsonSchema(SCHEMA, report)).toEqual([]);
  });

  it('the schema check is not vacuous', () => {
    const broken = structuredClone(report) as unknown as { presets: { backends: Record<string, unknown>[] }[] };
    broken.presets[0]!.backends[0]!.status = 'maybe';
    delete broken.presets[0]!.backends[1]!.worst;
    (broken.presets[0]!.backends[2] as Record<string, unknown>).extra = 1;
    const errors = validateJsonSchema(SCHEMA, broken);
    expect(errors.length).toBe(3);
    expect(errors.join('\n')).toContain('$.presets[0].backends[0]');
  });

  it('report.md has the verdict grid and the worst figures', async () => {
    const md = await readFile(files.md, 'utf8');
    expect(md).toBe(markdownReport(result.report));
    expect(md).toMatch(/^# Parity report: ❌ FAIL/);
    expect(md).toContain('| preset | onnxruntime-node | onnxruntime-web | tfjs-wasm | tfjs-cpu | torch |');
    expect(md).toMatch(/\| short_range \| ✅ \S+ \| ❌ 0\.5 \| — n\/a \| ❌ error \| — n\/a \|/);
    expect(md).toContain('regressors[0, 600, 2]');
  });

  it('report.html is one self-contained page with every image inlined', async () => {
    const html = await readFile(files.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="(?!data:)|url\((?!data:)|https?:\/\/(?!www\.w3\.org)/);
    const png = html.match(/url\(data:image\/png;base64,[A-Za-z0-9+/=]+\)/g) ?? [];
    const jpeg = html.match(/url\(data:image\/jpeg;base64,[A-Za-z0-9+/=]+\)/g) ?? [];
    expect(png).toHaveLength(inputs.filter((i) => i.kind !== 'random').length);
    expect(jpeg).toHaveLength(inputs.filter((i) => i.kind === 'random').length);
    for (const name of ['reference', 'onnxruntime-node', 'onnxruntime-web', ...inputs.map((i) => i.name)]) expect(html).toContain(name);
    // One face box per face found, for the reference and the two backends that ran.
    const faces = result.report.presets[0]!.reference!.detections.flat().length;
    expect((html.match(/class="box"/g) ?? []).length).toBe(3 * faces);
    expect(html).toContain('class="badge bad">FAIL');
  });

  it('rewriting the same result gives byte-identical files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parity-report-'));
    dirs.push(dir);
    const again = await writeReports(result, dir);
    for (const k of ['json', 'md', 'html'] as const) expect(await readFile(again[k], 'utf8')).toBe(await readFile(files[k], 'utf8'));
  });

  it('the summary table lists every preset/backend and the failures', () => {
    const table = summaryTable(result.report);
    expect(table).toMatch(/short_range\s+onnxruntime-web\s+FAIL\s+0\.5\s+\S+ \/ regressors\[0, 600, 2\]/);
    expect(table).toMatch(/short_range\s+tfjs-wasm\s+n\/a\s+stand-in: not installed/);
    expect(table).toContain('FAIL: 1 passed, 2 failed, 2 unavailable');
  });
});

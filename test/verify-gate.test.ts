// CI gate: a fast `verify` over every packaged preset and every backend available here (seed photos when
// present, the tfjs-models face, 2 random inputs). Every available backend must match the float64 oracle.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, seedDir } from '../src/fixtures.js';
import { PACKAGED_PRESETS } from '../src/presets/index.js';
import { loadVerifyInputs } from '../src/verify/inputs.js';
import type { ParityReport } from '../src/verify/report-types.js';
import { summaryTable } from '../src/verify/report-text.js';
import { runVerify, type VerifyResult } from '../src/verify/verify.js';
import { writeReports } from '../src/verify/write.js';
import { validateJsonSchema } from './helpers/json-schema.js';
import { gateArtifactsRoot } from './helpers/parity.js';

/** Runtimes that are dependencies of the toolkit: "unavailable" would mean the gate silently skipped them. */
const REQUIRED = ['tflite', 'onnxruntime-node', 'onnxruntime-web', 'tfjs-wasm', 'tfjs-cpu'];
const log = (line: string) => process.stderr.write(`${line}\n`);

let result: VerifyResult;
let outDir: string;
let artifacts: { root: string; temporary: boolean } | undefined;

beforeAll(async () => {
  artifacts = await gateArtifactsRoot(PACKAGED_PRESETS, log);
  const inputs = await loadVerifyInputs({ randomCount: 2 });
  result = await runVerify({ presets: PACKAGED_PRESETS, inputs, runs: 1, artifactsRoot: artifacts.root, log });
  outDir = await mkdtemp(path.join(os.tmpdir(), 'parity-gate-'));
  await writeReports(result, outDir);
  log(summaryTable(result.report));
}, 240_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
  if (artifacts?.temporary) await rm(artifacts.root, { recursive: true, force: true });
});

describe('parity gate', () => {
  it('every available backend matches the reference on every preset', () => {
    // The messages name preset / backend / input / tensor[0, anchor, coord]: they are the assertion text.
    expect(result.report.summary.failures, result.report.summary.failures.join('\n')).toEqual([]);
    for (const p of result.report.presets) {
      expect(p.error, `${p.preset}: ${p.error}`).toBeNull();
      for (const b of p.backends) {
        const why = b.status === 'fail' || b.status === 'error' ? b.failures.join('\n') : '';
        expect(['pass', 'unavailable'], `${p.preset} / ${b.backend}: ${b.status}\n${why}`).toContain(b.status);
      }
    }
    expect(result.report.summary.pass).toBe(true);
  });

  it('covers every preset and every runtime the toolkit depends on', () => {
    expect(result.report.presets.map((p) => p.preset)).toEqual([...PACKAGED_PRESETS]);
    for (const p of result.report.presets) {
      const ran = p.backends.filter((b) => b.status === 'pass' || b.status === 'fail').map((b) => b.backend);
      for (const name of REQUIRED) expect(ran, `${p.preset}: ${name} did not run`).toContain(name);
      // All inputs went through as one batch.
      for (const b of p.backends) if (b.status === 'pass') expect(b.batch).toBe(result.report.inputs.length);
    }
  });

  it('the oracle itself finds the faces in the photos', () => {
    const short = result.report.presets.find((p) => p.preset === 'short_range')!;
    const faces = Object.fromEntries(result.report.inputs.map((i) => [i.name, short.reference!.detections[i.index]!.length]));
    expect(faces['tfjs-models-face']).toBe(1);
    if (seedDir()) {
      expect(faces['1face.png']).toBe(1);
      expect(faces['3faces.png']).toBe(3);
    }
    for (const p of result.report.presets) {
      expect(p.reference!.detections[result.report.inputs.findIndex((i) => i.name === 'tfjs-models-face')]!.length, p.preset).toBe(1);
    }
  });

  it('writes reports that satisfy the schema', async () => {
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', 'parity-report.schema.json'), 'utf8')) as Record<string, unknown>;
    const report = JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')) as ParityReport;
    expect(validateJsonSchema(schema, report)).toEqual([]);
    expect(await readFile(path.join(outDir, 'report.html'), 'utf8')).toContain('BlazeFace parity report');
  });
});

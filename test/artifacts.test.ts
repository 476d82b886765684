// The committed artifacts are exactly what a fresh `convert` produces, and the manifest guards them.
import { mkdtemp, readFile, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACTS_ROOT, readManifest, verifyPresetArtifacts } from '../src/artifacts/manifest.js';
import { convertPreset, type ConvertResult } from '../src/convert/convert.js';
import { ArtifactIntegrityError, TfliteFormatError, UnsupportedOpError } from '../src/errors.js';
import { BuiltinOperator } from '../src/generated/tflite/tflite_generated.js';
import { resolvePresetModelFile } from '../src/tflite/model-file.js';
import { locate } from './helpers/tflite-patch.js';
import { getPreset, PACKAGED_PRESETS } from '../src/presets/index.js';
import { sha256Hex } from '../src/util/fs.js';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';

let fresh: string;
const results: ConvertResult[] = [];

beforeAll(async () => {
  fresh = await mkdtemp(path.join(tmpdir(), 'blazeface-convert-'));
  for (const name of PACKAGED_PRESETS) results.push(await convertPreset(getPreset(name), { artifactsRoot: fresh }));
}, 300_000);

afterAll(async () => {
  await rm(fresh, { recursive: true, force: true });
});

describe('npm run convert', () => {
  it('reproduces the committed artifacts byte for byte', () => {
    const committed = readManifest(DEFAULT_ARTIFACTS_ROOT);
    const rebuilt = readManifest(fresh);
    for (const name of PACKAGED_PRESETS) {
      expect(rebuilt.presets[name], `fresh conversion of ${name}`).toBeDefined();
      expect(committed.presets[name], `committed manifest has ${name} (run npm run convert)`).toBeDefined();
      expect(rebuilt.presets[name]!.files).toEqual(committed.presets[name]!.files);
      expect(rebuilt.presets[name]!.source).toEqual(committed.presets[name]!.source);
    }
  });

  it('gives identical bytes when run twice', async () => {
    const again = await convertPreset(getPreset('short_range'), { artifactsRoot: fresh });
    expect(again.record.files).toEqual(results[0]!.record.files);
  });

  it('verifies every committed file against the manifest', async () => {
    for (const name of PACKAGED_PRESETS) await verifyPresetArtifacts(DEFAULT_ARTIFACTS_ROOT, name);
  });

  it('refuses an artifact whose bytes changed, naming the file and the fix', async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'blazeface-tamper-'));
    try {
      const m = readManifest(fresh);
      await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(m));
      for (const f of m.presets.short_range!.files) {
        await mkdir(path.dirname(path.join(copy, f.path)), { recursive: true });
        await copyFile(path.join(fresh, f.path), path.join(copy, f.path));
      }
      const onnx = path.join(copy, 'short_range', 'model.onnx');
      const bytes = await readFile(onnx);
      bytes[bytes.length - 100] ^= 0xff;
      await writeFile(onnx, bytes);
      const err = await verifyPresetArtifacts(copy, 'short_range').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArtifactIntegrityError);
      expect((err as Error).message).toContain('short_range/model.onnx');
      expect((err as Error).message).toContain('npm run convert');
      expect((err as ArtifactIntegrityError).code).toBe('ARTIFACT_CHECKSUM');
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('fails on a file that is not TFLite and leaves no partial artifact behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blazeface-bad-'));
    try {
      const bad = path.join(dir, 'not-a-model.tflite');
      await writeFile(bad, 'this is not a flatbuffer, just text\n'.repeat(10));
      const out = path.join(dir, 'artifacts');
      const err = await convertPreset(getPreset('front'), { modelFile: bad, artifactsRoot: out }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TfliteFormatError);
      expect((err as Error).message).toContain('not-a-model.tflite');
      expect(existsSync(out) ? await readdir(out, { recursive: true }) : []).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails on an unsupported operator, naming it, and leaves no partial artifact behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blazeface-unsupported-'));
    try {
      const bytes = new Uint8Array(await readFile(resolvePresetModelFile(getPreset('short_range'))));
      bytes[locate(bytes).opcodeDeprecatedByte(1)] = BuiltinOperator.LOGISTIC;
      const file = path.join(dir, 'face_detection_front.tflite');
      await writeFile(file, bytes);
      const out = path.join(dir, 'artifacts');
      const err = await convertPreset(getPreset('front'), { modelFile: file, artifactsRoot: out }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedOpError);
      expect((err as Error).message).toBe('face_detection_front.tflite: operator #3 LOGISTIC is not supported');
      expect(existsSync(out)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replacing a preset keeps it listed and intact, and leaves no staging folder or temporary file', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'blazeface-partial-'));
    try {
      const sr = getPreset('short_range');
      await convertPreset(sr, { artifactsRoot: root });
      // New bytes (float32 tfjs weights) replace the listed ones; the interrupted case is test/hostile-artifacts-convert.test.ts.
      const again = await convertPreset(sr, { artifactsRoot: root, tfjsWeightDtype: 'float32' });
      await expect(verifyPresetArtifacts(root, 'short_range')).resolves.toBeDefined();
      expect(again.record.files.every((f) => f.path.startsWith('short_range/'))).toBe(true);
      expect((await readdir(root, { recursive: true })).filter((f) => /\.tmp$|\.next/.test(String(f)))).toEqual([]);
      // A preset never converted here: a packaged preset needs no --model-file; a user preset does.
      const err = await verifyPresetArtifacts(root, 'full_range').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArtifactIntegrityError);
      expect((err as ArtifactIntegrityError).code).toBe('PRESET_NOT_CONVERTED');
      expect((err as Error).message).toMatch(/run `npm run convert -- --preset full_range`$/);
      await expect(verifyPresetArtifacts(root, 'front')).rejects.toThrow(/--preset front --model-file <file\.tflite>`$/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('records the source model of every preset', () => {
    for (const r of results) {
      expect(r.record.source.origin).toMatch(/^@mediapipe\/face_detection@/);
      expect(r.record.source.sha256).toHaveLength(64);
    }
    expect(results.find((r) => r.preset === 'full_range')!.record.skipped['blazeface.pth']).toMatch(/no PyTorch/);
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

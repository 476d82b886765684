// Hostile input, issue 9 defects 5 and 7: artifacts that are re-signed into the manifest but wrong, a
// manifest of the wrong shape, and model files the manifest does not list. Each must be a typed error
// naming the file, at load where possible, never a runtime's raw error or an unchecked load.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARTIFACTS_ROOT, type Manifest } from '../src/artifacts/manifest.js';
import type { BackendName } from '../src/backends/backend.js';
import { createDetector } from '../src/detect/detector.js';
import { ArtifactIntegrityError, BackendError, ToolkitError } from '../src/errors.js';
import { sha256Hex } from '../src/util/fs.js';

let tmp = '';
let n = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'blazeface-hostile-manifest-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A private copy of the committed artifacts (manifest + short_range + full_range). */
async function copyArtifacts(): Promise<string> {
  const root = path.join(tmp, `root${n++}`);
  await mkdir(root);
  for (const entry of ['manifest.json', 'short_range', 'full_range']) await cp(path.join(DEFAULT_ARTIFACTS_ROOT, entry), path.join(root, entry), { recursive: true });
  return root;
}

async function editManifest(root: string, edit: (m: Manifest & Record<string, unknown>) => void): Promise<void> {
  const file = path.join(root, 'manifest.json');
  const m = JSON.parse(await readFile(file, 'utf8')) as Manifest & Record<string, unknown>;
  edit(m);
  await writeFile(file, JSON.stringify(m, null, 2));
}

/** Record the current bytes of `rel` in the manifest, as an attacker (or a careless hand) would. */
async function resign(root: string, rel: string): Promise<void> {
  const bytes = await readFile(path.join(root, rel));
  await editManifest(root, (m) => {
    for (const p of Object.values(m.presets)) {
      for (const f of p.files as { path: string; sha256: string; size: number }[]) {
        if (f.path === rel) Object.assign(f, { sha256: sha256Hex(bytes), size: bytes.byteLength });
      }
    }
  });
}

async function failure(work: () => Promise<unknown>): Promise<ToolkitError> {
  const err = await work().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ToolkitError);
  return err as ToolkitError;
}

const image = { data: new Uint8Array(128 * 128 * 3).fill(100), width: 128, height: 128 };

async function detectOnce(root: string, backend: BackendName): Promise<void> {
  const detector = await createDetector({ preset: 'short_range', backend, artifactsRoot: root });
  try {
    await detector.detect(image);
  } finally {
    await detector.dispose();
  }
}

describe('re-signed but wrong artifacts (defect 5)', () => {
  it("another preset's model.onnx is refused at load with ARTIFACT_SHAPE_MISMATCH naming the file", async () => {
    const root = await copyArtifacts();
    await cp(path.join(root, 'full_range', 'model.onnx'), path.join(root, 'short_range', 'model.onnx'));
    await resign(root, 'short_range/model.onnx');
    for (const backend of ['onnxruntime-node', 'onnxruntime-web'] as const) {
      const err = await failure(() => detectOnce(root, backend));
      expect(err, backend).toBeInstanceOf(ArtifactIntegrityError);
      expect(err.code).toBe('ARTIFACT_SHAPE_MISMATCH');
      expect(err.file).toBe(path.join(root, 'short_range', 'model.onnx'));
      expect(err.message).toMatch(/reports input \[N,192,192,3\], preset 'short_range' \(face_detection_short_range\.tflite\) expects \[\?,128,128,3\]/);
    }
  });

  it('a tfjs model.json with an unknown op fails with BACKEND_RUN_FAILED naming model.json, not TypeError', async () => {
    const root = await copyArtifacts();
    const rel = 'short_range/tfjs/model.json';
    const json = JSON.parse(await readFile(path.join(root, rel), 'utf8')) as { modelTopology: { node: { op: string }[] } };
    const node = json.modelTopology.node.find((x) => x.op === 'Conv2D' || x.op === 'FusedConv2D' || x.op === '_FusedConv2D')!;
    node.op = 'FrobnicateOp';
    await writeFile(path.join(root, rel), `${JSON.stringify(json, null, 2)}\n`);
    await resign(root, rel);
    const err = await failure(() => detectOnce(root, 'tfjs-cpu'));
    expect(err).toBeInstanceOf(BackendError);
    expect(err.code).toMatch(/^BACKEND_(LOAD|RUN)_FAILED$/);
    expect(err.file).toBe(path.join(root, rel));
    expect(err.message).toContain('FrobnicateOp');
  });

  it('a manifest whose files is not an array is MANIFEST_INVALID naming the manifest and the field', async () => {
    for (const edit of [
      (m: Manifest & Record<string, unknown>) => Object.assign(m.presets.short_range!, { files: { 'model.onnx': 'x' } }),
      (m: Manifest & Record<string, unknown>) => Object.assign(m, { files: 'anchors' }),
      (m: Manifest & Record<string, unknown>) => Object.assign(m.presets.short_range!.files[0]!, { sha256: 'not-hex' }),
      (m: Manifest & Record<string, unknown>) => Object.assign(m, { presets: [] }),
    ]) {
      const root = await copyArtifacts();
      await editManifest(root, edit);
      const err = await failure(() => detectOnce(root, 'onnxruntime-node'));
      expect(err).toBeInstanceOf(ArtifactIntegrityError);
      expect(err.code).toBe('MANIFEST_INVALID');
      expect(err.file).toBe(path.join(root, 'manifest.json'));
      expect(err.message).toMatch(/not a valid manifest \(\/.* see schemas\/manifest\.schema\.json\)/);
    }
  });
});

describe('unlisted or escaping artifacts (defect 7)', () => {
  it('a preset listing no files next to a tampered model.onnx is refused with ARTIFACT_UNLISTED', async () => {
    const root = await copyArtifacts();
    const onnx = path.join(root, 'short_range', 'model.onnx');
    const bytes = await readFile(onnx);
    bytes[bytes.length - 100] ^= 0xff;
    await writeFile(onnx, bytes);
    await editManifest(root, (m) => Object.assign(m.presets.short_range!, { files: [] }));
    const err = await failure(() => detectOnce(root, 'onnxruntime-node'));
    expect(err.code).toBe('ARTIFACT_UNLISTED');
    expect(err.file).toBe(onnx);
    expect(err.message).toContain('does not list it with a sha256');
  });

  it('an unlisted tfjs weight shard is refused even though model.json is listed', async () => {
    const root = await copyArtifacts();
    await editManifest(root, (m) => {
      const p = m.presets.short_range!;
      Object.assign(p, { files: p.files.filter((f) => !f.path.endsWith('.bin')) });
    });
    const err = await failure(() => detectOnce(root, 'tfjs-cpu'));
    expect(err.code).toBe('ARTIFACT_UNLISTED');
    expect(err.file).toBe(path.join(root, 'short_range', 'tfjs', 'group1-shard1of1.bin'));
  });

  it('paths that leave the root or are not normalised are refused by the schema', async () => {
    for (const bad of ['../short_range/model.onnx', '/etc/passwd', 'short_range/../short_range/model.onnx', 'short_range//model.onnx', 'short_range/./model.onnx', 'short_range\\model.onnx', 'short_range/.model.onnx.123.tmp']) {
      const root = await copyArtifacts();
      await editManifest(root, (m) => Object.assign(m.presets.short_range!.files[0]!, { path: bad }));
      const err = await failure(() => detectOnce(root, 'onnxruntime-node'));
      expect(err.code, bad).toBe('MANIFEST_INVALID');
      expect(err.message).toMatch(/must match pattern/);
    }
  });

  it("a preset's files must all be in its own folder", async () => {
    const root = await copyArtifacts();
    await editManifest(root, (m) => {
      m.presets.short_range!.files.forEach((f) => Object.assign(f, { path: f.path.replace(/^short_range\//, 'full_range/') }));
    });
    const err = await failure(() => detectOnce(root, 'onnxruntime-node'));
    expect(err.code).toBe('MANIFEST_PATH');
  });

  it('a listed file that is a symlink out of the artifacts root is refused (realpath), even with the right sha256', async () => {
    const root = await copyArtifacts();
    const outside = path.join(tmp, `outside-${n}.onnx`);
    const onnx = path.join(root, 'short_range', 'model.onnx');
    await cp(onnx, outside);
    await rm(onnx);
    await symlink(outside, onnx);
    const err = await failure(() => detectOnce(root, 'onnxruntime-node'));
    expect(err.code).toBe('ARTIFACT_PATH');
    expect(err.file).toBe(onnx);
    expect(err.message).toContain(`resolves to ${outside}, outside the artifacts root`);
  });

  it('the untouched copy still loads and runs (the checks refuse only what is wrong)', async () => {
    const root = await copyArtifacts();
    await detectOnce(root, 'onnxruntime-node');
    await detectOnce(root, 'tfjs-cpu');
  });
});

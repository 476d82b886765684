// The package as a consumer gets it: `npm pack` (prepack builds dist/), install the tarball into a fresh
// project, then detect faces through the public entry and the `blazeface` bin, using the packaged
// artifacts that are checked against the manifest; a tampered installed artifact must be refused.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector } from '../src/detect/detector.js';
import { REPO_ROOT, seedDir } from '../src/fixtures.js';
import { PACKAGED_PRESETS } from '../src/presets/index.js';

const run = promisify(execFile);
const PACKAGE = 'blazeface-toolkit';
const PACKAGED_ARTIFACT = path.join('artifacts', 'short_range', 'model.onnx');

/**
 * The environment for the child npm/node processes. When the suite runs under `npm test`/`npx`, npm
 * exports npm_config_* / npm_package_* for THIS repository (local prefix, .npmrc settings); left in
 * place they would point the consumer's npm back at the repo. Cache, registry and proxy settings are
 * kept so the install can use the same cache. NODE_OPTIONS is dropped so no test-runner loader leaks
 * into the consumer's plain `node`.
 */
function childEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((/^npm_/i.test(k) && !keep.test(k)) || k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  // onnxruntime-node's postinstall would download the CUDA provider libraries from NuGet (linux/x64).
  // The consumer's npm does run it: this package's "allowScripts" and .npmrc only bind this repository.
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  return env;
}

async function sh(cmd: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return run(cmd, args, { cwd, env: { ...childEnv(), ...extraEnv }, maxBuffer: 64 << 20 });
}

interface PackFile {
  path: string;
  size: number;
}
interface FaceOut {
  box: { xMin: number; yMin: number; xMax: number; yMax: number };
  score: number;
}

// The consumer's script: plain ESM importing the package by name, as a user would.
const CONSUMER_SCRIPT = `
import { ArtifactIntegrityError, createDetector } from '${PACKAGE}';

const resolved = import.meta.resolve('${PACKAGE}');
if (process.argv[2] === 'detect') {
  const file = process.env.BLAZEFACE_TEST_IMAGE;
  // Without the seed photo: a deterministic synthetic 128x128 RGB image as raw pixels.
  const data = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
  const image = file ? file : { data, width: 128, height: 128 };
  const detector = await createDetector({ backend: 'onnxruntime-node' });
  try {
    const faces = await detector.detect(image);
    console.log(JSON.stringify({
      resolved,
      backend: detector.backend.version,
      isArray: Array.isArray(faces),
      faces: faces.map((f) => ({ box: f.box, score: f.score })),
    }));
  } finally {
    await detector.dispose();
  }
} else if (process.argv[2] === 'tampered') {
  try {
    const detector = await createDetector({ backend: 'onnxruntime-node' });
    await detector.dispose();
    console.log(JSON.stringify({ ok: true }));
  } catch (err) {
    console.log(JSON.stringify({
      ok: false,
      name: err?.name,
      isIntegrityError: err instanceof ArtifactIntegrityError,
      code: err?.code,
      file: err?.file,
      message: String(err?.message),
    }));
  }
} else {
  throw new Error('usage: node consumer.mjs detect|tampered');
}
`;

describe('the packed package, installed in a fresh project', () => {
  let tmp = '';
  let project = '';
  let packFiles: PackFile[] = [];
  let image = '';
  const seed = seedDir();

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'blazeface-package-'));
    // What an interrupted `convert` can leave next to the packaged artifacts (pid 1 never writes them): `files` must exclude it.
    const strayTemps = [
      path.join(REPO_ROOT, 'artifacts', 'short_range', '.model.onnx.1.0badf00d.tmp'),
      path.join(REPO_ROOT, 'artifacts', 'full_range', 'tfjs', '.group1-shard1of1.bin.1.0badf00d.tmp'),
    ];
    for (const f of strayTemps) await writeFile(f, 'half-written artifact');
    let stdout: string;
    try {
      ({ stdout } = await sh('npm', ['pack', '--pack-destination', tmp, '--json'], REPO_ROOT));
    } finally {
      for (const f of strayTemps) await rm(f, { force: true });
    }
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: PackFile[] }[];
    packFiles = packed!.files;
    const tarball = path.join(tmp, packed!.filename);

    project = path.join(tmp, 'consumer');
    await mkdir(project);
    await writeFile(path.join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
    await writeFile(path.join(project, 'consumer.mjs'), CONSUMER_SCRIPT);
    // --prefer-offline takes what the npm cache has and asks the registry only for what it lacks.
    await sh('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], project);

    if (seed) {
      image = path.join(seed, '1face.png');
    } else {
      image = path.join(tmp, 'synthetic.png');
      const px = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
      await sharp(px, { raw: { width: 128, height: 128, channels: 3 } }).png().toFile(image);
    }
  }, 600_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the tarball holds dist/, every packaged preset artifact from the manifest, schemas/onnx.proto and python/', async () => {
    const sizes = new Map(packFiles.map((f) => [f.path, f.size]));
    for (const f of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'artifacts/manifest.json', 'schemas/onnx.proto', 'schemas/manifest.schema.json', 'python/blazeface_torch.py']) {
      expect(sizes.has(f), f).toBe(true);
    }
    const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'artifacts', 'manifest.json'), 'utf8')) as {
      presets: Record<string, { files: { path: string; size: number }[] }>;
    };
    expect(PACKAGED_PRESETS.length).toBeGreaterThan(0);
    for (const preset of PACKAGED_PRESETS) {
      const files = manifest.presets[preset]?.files ?? [];
      expect(files.length, `manifest entries for ${preset}`).toBeGreaterThan(0);
      for (const f of files) expect(sizes.get(`artifacts/${f.path}`), f.path).toBe(f.size);
    }
    // Sources, tests, scripts and parity reports (timings, 1-2 MB) stay out: consumers run dist/ on the artifacts.
    expect(packFiles.filter((f) => /^(src|test|scripts|node_modules|artifacts\/parity)\//.test(f.path))).toEqual([]);
    // Temporary files of an interrupted convert never ship, even when present in the packaged folders.
    expect(packFiles.filter((f) => /\.tmp$/.test(f.path))).toEqual([]);
  });

  it("the consumer's install skipped onnxruntime-node's CUDA download", async () => {
    // Only linux/x64 has the NuGet step; elsewhere these files never exist.
    const bin = path.join(project, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    expect((await stat(bin)).isDirectory()).toBe(true);
    await expect(stat(path.join(bin, 'libonnxruntime_providers_cuda.so'))).rejects.toThrow(/ENOENT/);
  });

  it('detects faces through the public entry, from the installed package, as the repository does', async () => {
    const { stdout } = await sh('node', ['consumer.mjs', 'detect'], project, seed ? { BLAZEFACE_TEST_IMAGE: image } : {});
    const out = JSON.parse(stdout) as { resolved: string; backend: string; isArray: boolean; faces: FaceOut[] };
    expect(out.resolved).toBe(pathToFileURL(await realpath(path.join(project, 'node_modules', PACKAGE, 'dist', 'index.js'))).href);
    expect(out.backend).toMatch(/^onnxruntime-node \d/);
    expect(out.isArray).toBe(true);
    if (seed) {
      expect(out.faces).toHaveLength(1);
      const { box, score } = out.faces[0]!;
      expect(score).toBeGreaterThan(0.75);
      // The seed photo is 128x128 with one face of about 20 px a little left of and above the centre.
      expect(box.xMin).toBeGreaterThan(25);
      expect(box.yMin).toBeGreaterThan(20);
      expect(box.xMax).toBeLessThan(80);
      expect(box.yMax).toBeLessThan(75);
      expect(box.xMax - box.xMin).toBeGreaterThan(10);
      expect(box.yMax - box.yMin).toBeGreaterThan(10);
    }
    // Same artifacts, same runtime: the installed package must match the repository's own detector.
    const detector = await createDetector({ backend: 'onnxruntime-node' });
    try {
      const data = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
      const repoFaces = await detector.detect(seed ? image : { data, width: 128, height: 128 });
      expect(out.faces.length).toBe(repoFaces.length);
      out.faces.forEach((f, i) => {
        expect(f.score).toBeCloseTo(repoFaces[i]!.score, 6);
        for (const k of ['xMin', 'yMin', 'xMax', 'yMax'] as const) expect(f.box[k]).toBeCloseTo(repoFaces[i]!.box[k], 4);
      });
    } finally {
      await detector.dispose();
    }
  });

  it('the installed bin: npx blazeface detect <img> --json', async () => {
    const { stdout } = await sh('npx', ['--no-install', 'blazeface', 'detect', image, '--json'], project);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!) as { image: string; width: number; height: number; faces: FaceOut[] };
    expect(rec).toMatchObject({ image, width: 128, height: 128 });
    expect(Array.isArray(rec.faces)).toBe(true);
    if (seed) {
      expect(rec.faces).toHaveLength(1);
      expect(rec.faces[0]!.score).toBeGreaterThan(0.75);
    }
  });

  // Last: it damages the installed copy.
  it('a tampered installed artifact makes createDetector fail with ArtifactIntegrityError naming the file', async () => {
    const file = path.join(project, 'node_modules', PACKAGE, PACKAGED_ARTIFACT);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);
    const { stdout } = await sh('node', ['consumer.mjs', 'tampered'], project);
    const out = JSON.parse(stdout) as { ok: boolean; name: string; isIntegrityError: boolean; code: string; file: string; message: string };
    const real = await realpath(file);
    expect(out).toMatchObject({ ok: false, name: 'ArtifactIntegrityError', isIntegrityError: true, code: 'ARTIFACT_CHECKSUM', file: real });
    expect(out.message).toContain(real);
  });
});

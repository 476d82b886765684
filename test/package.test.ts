// The package as a consumer gets it: `npm pack` once (prepack builds dist/ and dist/cjs/), then two fresh
// projects install the tarball:
//  - "plain": a default (CommonJS) project, `npm install <tarball>` with no environment tricks. It must
//    succeed even where onnxruntime-node's postinstall cannot reach NuGet (this machine): onnxruntime-node
//    is an optional dependency, so npm drops it and the default backend falls back. Here the module
//    formats are tested: require, import, TypeScript nodenext (CJS and ESM files), bundler, and a default
//    CommonJS TypeScript project; plus the adapters against the real .d.ts of the libraries they mimic.
//  - "ort": the same install with ONNXRUNTIME_NODE_INSTALL=skip (the documented way to keep
//    onnxruntime-node without NuGet): detection through onnxruntime-node, the bin, a tampered artifact.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
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
const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** The real type definitions the adapters mimic (read from npm, never a dependency). */
const VENDOR_TYPES = ['@mediapipe/tasks-vision@1.1.0', '@tensorflow-models/face-detection@1.0.3'];

/**
 * The environment for the child npm/node processes. When the suite runs under `npm test`/`npx`, npm
 * exports npm_config_* / npm_package_* for THIS repository (local prefix, .npmrc settings); left in
 * place they would point the consumer's npm back at the repo. Cache, registry and proxy settings are
 * kept so the install can use the same cache. NODE_OPTIONS is dropped so no test-runner loader leaks
 * into the consumer's plain `node`; so is any onnxruntime-node install flag: a consumer has none.
 */
function childEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((/^npm_/i.test(k) && !keep.test(k)) || k === 'INIT_CWD' || k === 'NODE_OPTIONS' || /^ONNXRUNTIME_NODE_INSTALL/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

async function sh(cmd: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return run(cmd, args, { cwd, env: { ...childEnv(), ...extraEnv }, maxBuffer: 64 << 20 });
}

async function install(project: string, tarball: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  // --prefer-offline takes what the npm cache has and asks the registry only for what it lacks.
  return sh('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], project, extraEnv);
}

interface PackFile {
  path: string;
  size: number;
}
interface FaceOut {
  box: { xMin: number; yMin: number; xMax: number; yMax: number; width: number; height: number };
  score: number;
}
/** What every module-format consumer prints. */
interface FormatOut {
  format: string;
  resolved: string;
  backend: string;
  faces: FaceOut[];
  missing: { code: string; isBackendUnavailableError: boolean; message: string } | null;
}

// ---- the consumers ----

// Shared by the require and import consumers: detect with the defaults, then ask for a runtime that a
// default install does not carry (onnxruntime-web) and for onnxruntime-node.
const JS_MAIN = `
async function main(bf, format, resolved) {
  const file = process.env.BLAZEFACE_TEST_IMAGE;
  const data = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
  const detector = await bf.createDetector();
  try {
    const faces = await detector.detect(file ? file : { data, width: 128, height: 128 });
    let missing = null;
    await bf.createDetector({ backend: 'onnxruntime-web' }).then((d) => d.dispose(), (err) => {
      missing = { code: err.code, isBackendUnavailableError: err instanceof bf.BackendUnavailableError, message: err.message };
    });
    let ortNode = null;
    await bf.createDetector({ backend: 'onnxruntime-node' }).then((d) => d.dispose(), (err) => {
      ortNode = { code: err.code, message: err.message };
    });
    console.log(JSON.stringify({ format, resolved, backend: detector.backend.name, faces: faces.map((f) => ({ box: f.box, score: f.score })), missing, ortNode }));
  } finally {
    await detector.dispose();
  }
}
`;

// The same in TypeScript, typed against the package's declarations.
const TS_MAIN = `
import * as bf from 'blazeface-toolkit';
import type { Face } from 'blazeface-toolkit';

async function main(format: string, resolved: string): Promise<void> {
  const file = process.env.BLAZEFACE_TEST_IMAGE;
  const data = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
  const detector: bf.Detector = await bf.createDetector();
  try {
    const faces: Face[] = await detector.detect(file ? file : { data, width: 128, height: 128 });
    let missing: { code: string; isBackendUnavailableError: boolean; message: string } | null = null;
    await bf.createDetector({ backend: 'onnxruntime-web' }).then(
      (d) => d.dispose(),
      (err: unknown) => {
        const e = err as bf.ToolkitError;
        missing = { code: e.code, isBackendUnavailableError: err instanceof bf.BackendUnavailableError, message: e.message };
      },
    );
    const widths: number[] = faces.map((f) => f.box.width);
    void widths;
    console.log(JSON.stringify({ format, resolved, backend: detector.backend.name, faces: faces.map((f) => ({ box: f.box, score: f.score })), missing }));
  } finally {
    await detector.dispose();
  }
}
`;

const TS_OPTIONS = { strict: true, skipLibCheck: true, target: 'es2022', types: ['node'], typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')] };

/** Files of the "plain" project: name -> content. */
function plainProjectFiles(): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`,
    'require.cjs': `${JS_MAIN}\nmain(require('${PACKAGE}'), 'require', require.resolve('${PACKAGE}')).catch((e) => { console.error(e); process.exitCode = 1; });\n`,
    'import.mjs': `import * as bf from '${PACKAGE}';\nimport { fileURLToPath } from 'node:url';\n${JS_MAIN}\nawait main(bf, 'import', fileURLToPath(import.meta.resolve('${PACKAGE}')));\n`,
    // nodenext: a .ts file in a package without "type" is CommonJS (require condition), a .mts file is ESM (import condition).
    'ts/nodenext/cjs.ts': `${TS_MAIN}\nvoid main('ts-nodenext-cjs', require.resolve('${PACKAGE}'));\n`,
    'ts/nodenext/esm.mts': `import { fileURLToPath } from 'node:url';\n${TS_MAIN}\nawait main('ts-nodenext-esm', fileURLToPath(import.meta.resolve('${PACKAGE}')));\n`,
    'tsconfig.nodenext.json': JSON.stringify({ compilerOptions: { ...TS_OPTIONS, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out/nodenext' }, files: ['ts/nodenext/cjs.ts', 'ts/nodenext/esm.mts'] }),
    // A CommonJS project as `module: commonjs` sets it up: node10 resolution (top-level "types"), require() at run time.
    'ts/commonjs/index.ts': `${TS_MAIN}\nvoid main('ts-commonjs', require.resolve('${PACKAGE}'));\n`,
    'tsconfig.commonjs.json': JSON.stringify({ compilerOptions: { ...TS_OPTIONS, module: 'commonjs', esModuleInterop: true, outDir: 'out/commonjs' }, files: ['ts/commonjs/index.ts'] }),
    // bundler: type-checked only (a bundler would do the rest); also checks the adapters against the real types.
    'ts/bundler/index.ts': `
import { createDetector, toMediaPipeDetection, toTfjsModelsFace, type Face } from '${PACKAGE}';
import type { Detection } from '../../vendor/tasks-vision/vision.js';
import type { Face as TfjsModelsFace } from '../../vendor/face-detection/dist/types.js';

export async function check(face: Face): Promise<[Detection, TfjsModelsFace]> {
  const detector = await createDetector({ preset: 'full_range', maxFaces: 1, backend: 'auto' });
  await detector.dispose();
  const detection: Detection = toMediaPipeDetection(face);
  const tfjsFace: TfjsModelsFace = toTfjsModelsFace(face);
  // The real types are loaded (not any): a wrong shape is rejected.
  // @ts-expect-error Detection has no 'box'
  const wrong: Detection = { box: face.box, keypoints: [] };
  void wrong;
  return [detection, tfjsFace];
}
`,
    'tsconfig.bundler.json': JSON.stringify({ compilerOptions: { ...TS_OPTIONS, module: 'preserve', moduleResolution: 'bundler', noEmit: true }, files: ['ts/bundler/index.ts'] }),
  };
}

// The "ort" project's script: plain ESM importing the package by name, onnxruntime-node explicitly.
const ORT_SCRIPT = `
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

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
}

/** The vendor .d.ts files (no code, no package.json) unpacked from their npm tarballs. */
async function unpackVendorTypes(project: string): Promise<void> {
  const dir = path.join(project, 'vendor');
  await mkdir(dir, { recursive: true });
  const { stdout } = await sh('npm', ['pack', ...VENDOR_TYPES, '--pack-destination', dir, '--json', '--prefer-offline'], dir);
  const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { name: string; filename: string }[];
  for (const p of packed) {
    const into = path.join(dir, p.name === '@mediapipe/tasks-vision' ? 'tasks-vision' : 'face-detection');
    await mkdir(into, { recursive: true });
    await sh('tar', ['-xzf', path.join(dir, p.filename), '-C', into, '--strip-components=1', '--wildcards', '*.d.ts'], dir);
  }
}

describe('the packed package, installed in fresh projects', () => {
  let tmp = '';
  let plain = '';
  let ort = '';
  let packFiles: PackFile[] = [];
  let plainInstall = { stdout: '', stderr: '' };
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

    plain = path.join(tmp, 'plain');
    await writeFiles(plain, plainProjectFiles());
    ort = path.join(tmp, 'ort');
    await writeFiles(ort, { 'package.json': `${JSON.stringify({ name: 'consumer-ort', private: true, type: 'module' }, null, 2)}\n`, 'consumer.mjs': ORT_SCRIPT });
    // One at a time: two npm installs racing on one cache only slow each other down.
    plainInstall = await install(plain, tarball);
    await install(ort, tarball, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    await unpackVendorTypes(plain);

    if (seed) {
      image = path.join(seed, '1face.png');
    } else {
      image = path.join(tmp, 'synthetic.png');
      const px = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
      await sharp(px, { raw: { width: 128, height: 128, channels: 3 } }).png().toFile(image);
    }
  }, 900_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the tarball holds dist/ (ESM and CJS), LICENSE, NOTICE, every packaged preset artifact, schemas/onnx.proto and python/', async () => {
    const sizes = new Map(packFiles.map((f) => [f.path, f.size]));
    for (const f of [
      'package.json',
      'LICENSE',
      'NOTICE',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cjs/index.cjs',
      'dist/cjs/index.d.ts',
      'dist/cjs/package.json',
      'dist/cli/main.js',
      'artifacts/manifest.json',
      'schemas/onnx.proto',
      'schemas/manifest.schema.json',
      'python/blazeface_torch.py',
    ]) {
      expect(sizes.has(f), f).toBe(true);
    }
    expect(await readFile(path.join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
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

  it('a plain `npm install <tarball>` succeeds without any environment flag and carries no optional runtime', () => {
    expect(plainInstall.stderr).not.toMatch(/npm error/);
    // Optional peers are not installed by default; the default backend's runtime comes as an optional dependency.
    for (const p of ['onnxruntime-web', '@tensorflow/tfjs-core', '@tensorflow/tfjs-tflite', '@tensorflow-models/blazeface']) {
      expect(existsSync(path.join(plain, 'node_modules', p)), p).toBe(false);
    }
    for (const p of ['sharp', '@mediapipe/face_detection', PACKAGE]) expect(existsSync(path.join(plain, 'node_modules', p)), p).toBe(true);
  });

  describe('module formats (one install, the default backend)', () => {
    const outputs = new Map<string, FormatOut>();
    const ortNodeInstalled = () => existsSync(path.join(plain, 'node_modules', 'onnxruntime-node'));
    const imageEnv = () => (seed ? { BLAZEFACE_TEST_IMAGE: image } : {});
    const dist = (...p: string[]) => path.join(plain, 'node_modules', PACKAGE, 'dist', ...p);

    async function runNode(file: string): Promise<FormatOut> {
      const { stdout } = await sh('node', [file], plain, imageEnv());
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as FormatOut;
    }

    it.each([
      ['require', 'require.cjs', 'cjs/index.cjs'],
      ['import', 'import.mjs', 'index.js'],
    ])('%s works in plain JavaScript', async (format, file, entry) => {
      const out = await runNode(file);
      expect(out.format).toBe(format);
      expect(await realpath(out.resolved)).toBe(await realpath(dist(entry)));
      outputs.set(format, out);
    });

    it('TypeScript nodenext: the .ts (CommonJS) file gets the CJS types and build, the .mts file the ESM ones', async () => {
      const { stdout } = await sh('node', [TSC, '-p', 'tsconfig.nodenext.json', '--explainFiles'], plain);
      const norm = stdout.split(path.sep).join('/');
      expect(norm).toContain('node_modules/blazeface-toolkit/dist/cjs/index.d.ts');
      expect(norm).toContain('node_modules/blazeface-toolkit/dist/index.d.ts');
      const cjs = await runNode(path.join('out', 'nodenext', 'cjs.js'));
      expect(await realpath(cjs.resolved)).toBe(await realpath(dist('cjs', 'index.cjs')));
      const esm = await runNode(path.join('out', 'nodenext', 'esm.mjs'));
      expect(await realpath(esm.resolved)).toBe(await realpath(dist('index.js')));
      outputs.set('ts-nodenext-cjs', cjs);
      outputs.set('ts-nodenext-esm', esm);
    });

    it('TypeScript in a default CommonJS project (module commonjs): type-checks and runs', async () => {
      await sh('node', [TSC, '-p', 'tsconfig.commonjs.json'], plain);
      const out = await runNode(path.join('out', 'commonjs', 'index.js'));
      expect(await realpath(out.resolved)).toBe(await realpath(dist('cjs', 'index.cjs')));
      outputs.set('ts-commonjs', out);
    });

    it('TypeScript bundler resolution type-checks, and the adapters fit the real tasks-vision and face-detection types', async () => {
      await expect(sh('node', [TSC, '-p', 'tsconfig.bundler.json'], plain)).resolves.toBeDefined();
    });

    it('every format gives the same faces as the repository on the same backend; missing runtimes are BACKEND_NOT_INSTALLED', async () => {
      expect([...outputs.keys()].sort()).toEqual(['import', 'require', 'ts-commonjs', 'ts-nodenext-cjs', 'ts-nodenext-esm']);
      // Where onnxruntime-node's postinstall cannot reach NuGet (this machine), npm drops the optional
      // dependency and 'auto' falls back to the reference interpreter; elsewhere it is onnxruntime-node.
      const backend = ortNodeInstalled() ? 'onnxruntime-node' : 'reference';
      const detector = await createDetector({ backend });
      try {
        const data = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37 + (i >> 7)) % 251);
        const repoFaces = await detector.detect(seed ? image : { data, width: 128, height: 128 });
        if (seed) expect(repoFaces).toHaveLength(1);
        for (const [format, out] of outputs) {
          expect(out.backend, format).toBe(backend);
          expect(out.faces.length, format).toBe(repoFaces.length);
          out.faces.forEach((f, i) => {
            expect(f.score).toBeCloseTo(repoFaces[i]!.score, 6);
            for (const k of ['xMin', 'yMin', 'xMax', 'yMax', 'width', 'height'] as const) expect(f.box[k]).toBeCloseTo(repoFaces[i]!.box[k], 4);
          });
          expect(out.missing, format).toMatchObject({ code: 'BACKEND_NOT_INSTALLED', isBackendUnavailableError: true });
          expect(out.missing!.message).toContain('npm install onnxruntime-web');
        }
      } finally {
        await detector.dispose();
      }
      const ortNode = (outputs.get('require') as FormatOut & { ortNode: { code: string; message: string } | null }).ortNode;
      if (ortNodeInstalled()) expect(ortNode).toBeNull();
      else {
        expect(ortNode).toMatchObject({ code: 'BACKEND_NOT_INSTALLED' });
        expect(ortNode!.message).toMatch(/npm install onnxruntime-node.*ONNXRUNTIME_NODE_INSTALL=skip/);
      }
    });
  });

  describe('with onnxruntime-node (installed with ONNXRUNTIME_NODE_INSTALL=skip)', () => {
    it("the install kept onnxruntime-node and skipped its CUDA download", async () => {
      // Only linux/x64 has the NuGet step; elsewhere these files never exist.
      const bin = path.join(ort, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
      expect((await stat(bin)).isDirectory()).toBe(true);
      await expect(stat(path.join(bin, 'libonnxruntime_providers_cuda.so'))).rejects.toThrow(/ENOENT/);
    });

    it('detects faces through the public entry, from the installed package, as the repository does', async () => {
      const { stdout } = await sh('node', ['consumer.mjs', 'detect'], ort, seed ? { BLAZEFACE_TEST_IMAGE: image } : {});
      const out = JSON.parse(stdout) as { resolved: string; backend: string; isArray: boolean; faces: FaceOut[] };
      expect(out.resolved).toBe(pathToFileURL(await realpath(path.join(ort, 'node_modules', PACKAGE, 'dist', 'index.js'))).href);
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
        expect(box.width).toBeGreaterThan(10);
        expect(box.height).toBeGreaterThan(10);
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

    it('the installed bin: npx blazeface detect <img> --json, and --version', async () => {
      const { stdout } = await sh('npx', ['--no-install', 'blazeface', 'detect', image, '--json'], ort);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const rec = JSON.parse(lines[0]!) as { image: string; width: number; height: number; faces: FaceOut[] };
      expect(rec).toMatchObject({ image, width: 128, height: 128 });
      expect(Array.isArray(rec.faces)).toBe(true);
      if (seed) {
        // The CLI's default preset is full_range (MediaPipe scoring): the seed's one face.
        expect(rec.faces).toHaveLength(1);
        expect(rec.faces[0]!.score).toBeGreaterThan(0.75);
      }
      const version = await sh('npx', ['--no-install', 'blazeface', '--version'], ort);
      const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(version.stdout.trim()).toBe(`${PACKAGE} ${pkg.version}`);
    });

    it('detectMany runs its worker threads from the installed package, under import and require', async () => {
      const body = (load: string) => `${load}
(async () => {
  const counts = [];
  for await (const e of detectMany([process.env.IMG, 'missing.png', process.env.IMG], { preset: 'full_range', concurrency: 2 })) counts.push(e.ok ? e.faces.length : e.error.code);
  console.log(JSON.stringify(counts));
})();
`;
      await writeFile(path.join(ort, 'many.mjs'), body("import { detectMany } from 'blazeface-toolkit';"));
      await writeFile(path.join(ort, 'many.cjs'), body("const { detectMany } = require('blazeface-toolkit');"));
      for (const file of ['many.mjs', 'many.cjs']) {
        const { stdout } = await sh('node', [file], ort, { IMG: image });
        const counts = JSON.parse(stdout) as unknown[];
        expect(counts[1]).toBe('INPUT_NOT_FOUND');
        expect(counts[0]).toBe(counts[2]);
        if (seed) expect(counts[0]).toBe(1);
      }
    });

    // Last: it damages the installed copy.
    it('a tampered installed artifact makes createDetector fail with ArtifactIntegrityError naming the file', async () => {
      const file = path.join(ort, 'node_modules', PACKAGE, PACKAGED_ARTIFACT);
      const bytes = await readFile(file);
      bytes[bytes.length >> 1] ^= 0xff;
      await writeFile(file, bytes);
      const { stdout } = await sh('node', ['consumer.mjs', 'tampered'], ort);
      const out = JSON.parse(stdout) as { ok: boolean; name: string; isIntegrityError: boolean; code: string; file: string; message: string };
      const real = await realpath(file);
      expect(out).toMatchObject({ ok: false, name: 'ArtifactIntegrityError', isIntegrityError: true, code: 'ARTIFACT_CHECKSUM', file: real });
      expect(out.message).toContain(real);
    });
  });
});

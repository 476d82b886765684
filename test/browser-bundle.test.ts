// The browser entry bundles for browsers with no Node built-in, sharp or fs anywhere in its graph:
// esbuild (platform browser, nothing external) fails on an unresolvable `node:fs`. The control bundles
// the Node detector the same way and must fail, so this test can.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_BUILD_OPTIONS } from '../src/devserver/bundle.js';
import { REPO_ROOT } from '../src/fixtures.js';
import { buildBrowser } from '../scripts/build-browser.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bf-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function bundleConsumer(importFrom: string): Promise<esbuild.Metafile> {
  const entry = path.join(dir, `consumer-${path.basename(importFrom, '.ts')}.ts`);
  await writeFile(entry, `import { createDetector } from ${JSON.stringify(importFrom)};\nexport const go = (u: string) => createDetector({ artifactsUrl: u });\n`);
  const result = await esbuild.build({ ...BROWSER_BUILD_OPTIONS, entryPoints: [entry], outdir: path.join(dir, 'out'), write: false, metafile: true });
  return result.metafile;
}

describe('browser bundle', () => {
  it('a consumer of src/browser/index.ts bundles with --platform=browser and pulls in no Node-only module', async () => {
    const meta = await bundleConsumer(path.join(REPO_ROOT, 'src', 'browser', 'index.ts'));
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((i) => i.includes('src/detect/core.ts'))).toBe(true);
    expect(inputs.some((i) => i.includes('onnxruntime-web'))).toBe(true);
    expect(inputs.filter((i) => /^node:|\/sharp\/|src\/detect\/(detector|input|letterbox)\.ts|src\/image\/pixels\.ts/.test(i))).toEqual([]);
  });

  it('control: the Node detector does not bundle for browsers (esbuild names the Node built-in)', async () => {
    const err = await bundleConsumer(path.join(REPO_ROOT, 'src', 'detect', 'detector.ts')).then(
      () => null,
      (e: unknown) => e as esbuild.BuildFailure,
    );
    expect(err).not.toBeNull();
    const texts = err!.errors.map((e) => e.text);
    expect(texts.some((t) => /^Could not resolve "node:(fs|fs\/promises|path|module|url|crypto|child_process)"/.test(t))).toBe(true);
  });

  it('npm run build:browser writes one minified ESM file with the runtimes external', async () => {
    const out = path.join(dir, 'dist-browser');
    const { file, bytes } = await buildBrowser(out);
    const js = await readFile(file, 'utf8');
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(200_000);
    expect(js).toMatch(/export\s*\{/);
    // The runtimes are imported, not inlined.
    expect(js).toContain('"onnxruntime-web/all"');
    expect(js).toContain('"@tensorflow/tfjs-core"');
    expect(js).not.toMatch(/require\("node:|from"node:/);
  });
});

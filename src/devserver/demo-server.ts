// The server behind `npm run demo`: the demo page (examples/browser/, its module bundled by esbuild at
// start), the artifacts, the packaged presets' .tflite files, the runtimes' wasm files, the seed photos
// when present, and dist/browser. 127.0.0.1 only.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_ARTIFACTS_ROOT } from '../artifacts/manifest.js';
import { REPO_ROOT, seedDir } from '../fixtures.js';
import { PACKAGED_PRESETS, getPreset } from '../presets/index.js';
import { resolvePresetModelFile } from '../tflite/model-file.js';
import { bundleToString } from './bundle.js';
import { runtimeMounts } from './runtime-files.js';
import { startStaticServer, type StaticServer } from './static-server.js';

export const DEMO_DIR = path.join(REPO_ROOT, 'examples', 'browser');

export async function startDemoServer(opts: { port?: number; artifactsRoot?: string } = {}): Promise<StaticServer & { seed: boolean }> {
  const js = await bundleToString(path.join(DEMO_DIR, 'demo.ts'), { sourcemap: 'inline' });
  const files: Record<string, string> = {};
  for (const name of PACKAGED_PRESETS) files[`/models/${name}.tflite`] = resolvePresetModelFile(getPreset(name));
  const seed = seedDir();
  const mounts: Record<string, string> = {
    '/': DEMO_DIR,
    '/artifacts/': opts.artifactsRoot ?? DEFAULT_ARTIFACTS_ROOT,
    ...runtimeMounts(),
    ...(seed ? { '/seed/': seed } : {}),
  };
  const distBrowser = path.join(REPO_ROOT, 'dist', 'browser');
  if (existsSync(distBrowser)) mounts['/dist/browser/'] = distBrowser;
  const server = await startStaticServer({ port: opts.port, mounts, files });
  server.setMemory('/demo.js', js);
  return Object.assign(server, { seed: seed !== null });
}

// The CommonJS build, run after `tsc` (npm run build): src/index.ts bundled by esbuild into
// dist/cjs/index.cjs, so `require('blazeface-toolkit')` works on Node 20 (no require(esm) there).
// Runtime packages stay external and are still loaded on demand. `import.meta.url` has no CommonJS
// equivalent, so it is replaced by the bundle file's own URL; every path the code derives from it goes
// through src/util/package-root.ts, which does not depend on the file's depth. The declarations of the
// ESM build are copied beside the bundle, under a {"type":"commonjs"} marker, so TypeScript reads them
// as CommonJS types for `require` (exports["."].require.types).
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const out = path.join(dist, 'cjs');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'src', 'index.ts')],
  outfile: path.join(out, 'index.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  define: { 'import.meta.url': '__blazefaceModuleUrl' },
  banner: { js: "const __blazefaceModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
await writeFile(path.join(out, 'package.json'), '{ "type": "commonjs" }\n');

// Copy every .d.ts of the ESM build (not the cjs folder itself).
async function copyDeclarations(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (from !== out) await copyDeclarations(from);
    } else if (entry.name.endsWith('.d.ts')) {
      const to = path.join(out, path.relative(dist, from));
      await mkdir(path.dirname(to), { recursive: true });
      await cp(from, to);
    }
  }
}
await copyDeclarations(dist);

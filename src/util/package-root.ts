// The package's root folder. Code under src/ (tsx, tests), dist/ (the ESM build) and dist/cjs/ (the
// CommonJS bundle) sits at different depths below it, so it is found by walking up from this module to
// the nearest package.json that has a "name" (dist/cjs/package.json is a nameless {"type":"commonjs"} marker).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && typeof (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'string') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json with a name above ${start}`);
  }
}

/** Root of the installed blazeface-toolkit (or of the repository when run from source). */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

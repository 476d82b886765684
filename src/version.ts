// The toolkit's own name and version, read once from package.json (recorded in every artifact).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './fixtures.js';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

export const TOOLKIT_NAME: string = pkg.name;
export const TOOLKIT_VERSION: string = pkg.version;

/** Version of an installed npm package (from its package.json), or null when it is not installed. */
export function installedPackageVersion(name: string): string | null {
  try {
    // Searched along node's own lookup paths (not `exports`, which may hide package.json), so it also
    // works when this toolkit is itself installed in a consumer's node_modules.
    for (const dir of createRequire(import.meta.url).resolve.paths(name) ?? []) {
      const file = path.join(dir, ...name.split('/'), 'package.json');
      if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    }
    return null;
  } catch {
    return null;
  }
}

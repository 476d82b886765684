// Where optional fixtures live: the seed project's files (../shared/seed next to the repository).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './util/package-root.js';

/** Repository root (the installed package's root when run from dist/ or dist/cjs/). */
export const REPO_ROOT = PACKAGE_ROOT;

/** The seed folder (BLAZEFACE_SEED_DIR, else ../shared/seed beside the repository), or null when absent. */
export function seedDir(): string | null {
  const dir = process.env.BLAZEFACE_SEED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'seed');
  return existsSync(path.join(dir, '1face.png')) ? dir : null;
}

export const SEED_PHOTOS = ['1face.png', '3faces.png', '4faces.png'] as const;

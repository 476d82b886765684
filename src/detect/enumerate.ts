// The images of `detect <paths...>`, found lazily, in a stable order: a file as given; a folder walked
// depth-first, each directory's entries sorted by name, keeping image extensions; a glob (quoted, so the
// shell leaves it alone) streamed by fast-glob (Node 20 has no fs.glob). Nothing holds the whole list:
// 10 million files cost one directory listing at a time.
// Sharding hashes each image's path relative to its folder (or the path as given/matched), not its list
// position, so every machine that sees the same corpus under any mount point agrees on the split.
import { createHash } from 'node:crypto';
import { type Dirent } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';

/** Extensions a folder walk or a glob keeps (files given by name are always tried: the bytes decide). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif'] as const;

export interface FoundImage {
  /** The path to open (as given, or joined below the folder given). */
  readonly path: string;
  /** Path relative to the folder argument (a file or glob match: the path itself); the shard key. */
  readonly relative: string;
}

const GLOB_CHARS = /[*?[\]{}]/;

export function isImageName(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

async function* walk(root: string, dir: string): AsyncGenerator<FoundImage> {
  const entries: Dirent[] = [];
  for await (const e of await opendir(dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(root, full);
    else if ((e.isFile() || e.isSymbolicLink()) && isImageName(e.name)) yield { path: full, relative: path.relative(root, full).split(path.sep).join('/') };
  }
}

/** Whether an argument is a glob: it has glob characters and no file of that exact name exists. */
export async function isGlob(arg: string): Promise<boolean> {
  if (!GLOB_CHARS.test(arg)) return false;
  return !(await stat(arg).then(() => true, () => false));
}

/** The folder part of a glob before its first glob character (where its matches live). */
export function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const i = parts.findIndex((p) => GLOB_CHARS.test(p));
  return parts.slice(0, i).join('/') || '.';
}

/**
 * Every image of the arguments, lazily, in argument order. A path that does not exist (or is not a
 * folder) is passed through as a file, so the detector reports it as a typed error entry.
 */
export async function* enumerateImages(args: readonly string[]): AsyncGenerator<FoundImage> {
  for (const arg of args) {
    const st = await stat(arg).catch(() => null);
    if (st?.isDirectory()) {
      yield* walk(arg, arg);
    } else if (!st && (await isGlob(arg))) {
      const matches: string[] = [];
      // fast-glob streams matches in its walk order (stable for an unchanged tree); each batch of 4096
      // is sorted so small globs come out in name order, without holding every match.
      for await (const m of fg.stream(arg, { onlyFiles: true, dot: false, followSymbolicLinks: true })) {
        const s = String(m);
        if (isImageName(s)) matches.push(s);
        if (matches.length >= 4096) {
          matches.sort();
          for (const p of matches.splice(0)) yield { path: p, relative: p };
        }
      }
      matches.sort();
      for (const p of matches) yield { path: p, relative: p };
    } else {
      yield { path: arg, relative: arg.split(path.sep).join('/') };
    }
  }
}

/** Shard i (0-based) of n: a stable function of the relative path (first 8 hex digits of its SHA-1). */
export function shardOf(relative: string, n: number): number {
  return parseInt(createHash('sha1').update(relative).digest('hex').slice(0, 8), 16) % n;
}

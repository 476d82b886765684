// Regenerates src/generated/ from schemas/*.fbs with flatc (`npm run schemas`).
// The output is committed; test/tflite-schema.test.ts regenerates into a temp dir and
// checks nothing changed. flatc's TypeScript output differs between flatc releases, so the
// generator version is pinned: Debian bookworm's flatbuffers-compiler (2.0.8).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../util/fs.js';

export const FLATC_VERSION = '2.0.8';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One schema -> one generated folder. */
export interface SchemaTarget {
  schema: string;
  outDir: string;
  readme: string;
}

export const SCHEMA_TARGETS: readonly SchemaTarget[] = [
  {
    schema: 'schemas/tflite.fbs',
    outDir: 'src/generated/tflite',
    readme: [
      '# Generated code: do not edit',
      '',
      'Everything in this folder is generated from `schemas/tflite.fbs` by `npm run schemas`',
      `(\`src/tools/gen-schemas.ts\`, running \`flatc ${FLATC_VERSION} --ts --ts-flat-files\`).`,
      'Edit the schema and regenerate; `test/tflite-schema.test.ts` fails when this folder is not',
      'what the generator produces.',
      '',
      'Only `src/tflite/` imports this code (see ARCHITECTURE.md: the reader is the only code that',
      'knows the flatbuffer).',
      '',
    ].join('\n'),
  },
];

/** The flatc version on PATH, or null when flatc is not installed. */
export function flatcVersion(): string | null {
  try {
    const out = execFileSync('flatc', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /flatc version (\S+)/.exec(out);
    return m ? m[1]! : out.trim();
  } catch {
    return null;
  }
}

/** Run flatc for every target, writing under `root` (the repository, or a temp dir for the check). Returns written files, relative to root. */
export async function generateSchemas(root: string = REPO_ROOT): Promise<string[]> {
  const version = flatcVersion();
  if (version === null) throw new Error('flatc is not on PATH (Debian/Ubuntu: apt-get install flatbuffers-compiler)');
  if (version !== FLATC_VERSION) {
    throw new Error(`flatc ${version} found, the committed code comes from flatc ${FLATC_VERSION}; other releases generate different TypeScript`);
  }
  const written: string[] = [];
  for (const target of SCHEMA_TARGETS) {
    // flatc writes into a scratch dir first so a failed run leaves the committed folder intact.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'gen-schemas-'));
    try {
      execFileSync('flatc', ['--ts', '--ts-flat-files', '-o', scratch, path.join(REPO_ROOT, target.schema)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const outDir = path.join(root, target.outDir);
      await mkdir(outDir, { recursive: true });
      for (const name of readdirSync(scratch).sort()) {
        await writeFileAtomic(path.join(outDir, name), readFileSync(path.join(scratch, name)));
        written.push(path.join(target.outDir, name));
      }
      await writeFileAtomic(path.join(outDir, 'README.md'), target.readme);
      written.push(path.join(target.outDir, 'README.md'));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  generateSchemas().then(
    (files) => {
      for (const f of files) console.log(`wrote ${f}`);
    },
    (err: unknown) => {
      console.error(`gen-schemas: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}

// Where `blazeface detect --out <dir>` writes its annotated PNGs, and the checks that keep those writes
// from losing data or hanging:
//  - one output per input, <dir>/<base name>.png; inputs whose names would collide (a/x.png, b/x.png,
//    x.jpg) get -2, -3... in input order, skipping any name another input wants (x-2.png);
//  - an output is never an input (same device + inode, so symlinks and ../ spellings are caught);
//  - an existing output is replaced only with overwrite, and only when it is a regular file;
//  - the folder must be (or be creatable as) a directory on a real filesystem: /proc, /sys, /dev and
//    other pseudo filesystems are refused, since writing there hangs or does something else entirely.
import { type Stats } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { OutputPathError } from '../errors.js';
import { describeFileType, writeFileAtomic } from '../util/fs.js';

/** statfs() magic numbers of pseudo filesystems (linux/magic.h): files there are not files. */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroupfs'],
  [0x63677270, 'cgroup2fs'],
  [0x6165676c, 'pstorefs'],
  [0xcafe4a11, 'bpffs'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x65735543, 'fusectl'],
  [0x19800202, 'mqueue'],
  [0x1373, 'devfs'],
]);

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await stat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null; // ENOTDIR: a file is in the way; the ancestor walk reports it
    throw new OutputPathError('OUTPUT_NOT_WRITABLE', `${p}: cannot stat (${code ?? String(err)})`, { file: p, cause: err });
  }
}

/** The closest existing ancestor of `p` (p itself when it exists) and its stat. */
async function existingAncestor(p: string): Promise<{ dir: string; st: Stats }> {
  for (let dir = p; ; dir = path.dirname(dir)) {
    const st = await statOrNull(dir);
    if (st) return { dir, st };
    if (path.dirname(dir) === dir) throw new OutputPathError('OUTPUT_NOT_WRITABLE', `${p}: no existing folder above it`, { file: p });
  }
}

/** Refuse a folder on a pseudo filesystem; /dev is devtmpfs, which statfs reports as tmpfs, so it is matched by device. */
async function checkRealFilesystem(dir: string, st: Stats, outDir: string, flag: string): Promise<void> {
  const fail = (what: string): never => {
    throw new OutputPathError('OUTPUT_NOT_WRITABLE', `${flag} ${outDir}: ${dir} is on ${what}, not a real filesystem`, { file: outDir });
  };
  const fs = await statfs(dir).catch(() => null);
  const name = fs ? PSEUDO_FILESYSTEMS.get(Number(fs.type)) : undefined;
  if (name) fail(name);
  const dev = await statOrNull('/dev');
  if (process.platform === 'linux' && dev && st.dev === dev.dev) fail('the device filesystem (/dev)');
}

/** Check that `outDir` is, or can be created as, a directory on a real filesystem. */
export async function checkOutputDir(outDir: string, flag = '--out'): Promise<void> {
  const abs = path.resolve(outDir);
  const { dir, st } = await existingAncestor(abs);
  if (!st.isDirectory()) {
    const why = dir === abs ? `is ${describeFileType(st)}, not a directory` : `cannot be created (${dir} is ${describeFileType(st)})`;
    throw new OutputPathError('OUTPUT_NOT_WRITABLE', `${flag} ${outDir}: ${why}`, { file: outDir });
  }
  await checkRealFilesystem(dir, st, outDir, flag);
}

/** Output file for each input: <outDir>/<base name><ext> (default .png), unique (see the file comment). */
export function outputNames(outDir: string, inputs: readonly string[], ext = '.png'): string[] {
  const wanted = inputs.map((f) => path.basename(f, path.extname(f)));
  const all = new Set(wanted.map((w) => `${w}${ext}`));
  const taken = new Set<string>();
  return wanted.map((w) => {
    let name = `${w}${ext}`;
    // A later duplicate takes the first free -n that no other input wants for itself either.
    for (let n = 2; taken.has(name); n++) {
      const candidate = `${w}-${n}${ext}`;
      if (!all.has(candidate) && !taken.has(candidate)) name = candidate;
    }
    taken.add(name);
    return path.join(outDir, name);
  });
}

/** File identity (device + inode) of every input that exists, to recognise an output that would overwrite one. */
async function inputIdentities(inputs: readonly string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const input of inputs) {
    const st = await stat(input).catch(() => null);
    if (st) ids.add(`${st.dev}:${st.ino}`);
  }
  return ids;
}

export interface OutputPlan {
  /** The output file of each input, in input order. */
  readonly files: readonly string[];
  readonly overwrite: boolean;
  /** dev:ino of the inputs, checked again at write time. */
  readonly inputIds: ReadonlySet<string>;
}

/** Check a target: never an input; existing only as a regular file, and then only with overwrite. */
async function checkTarget(file: string, plan: Pick<OutputPlan, 'overwrite' | 'inputIds'>): Promise<void> {
  const st = await statOrNull(file);
  if (!st) return;
  if (plan.inputIds.has(`${st.dev}:${st.ino}`)) {
    throw new OutputPathError('OUTPUT_IS_INPUT', `${file}: is one of the input images; it is never overwritten (choose another --out)`, { file });
  }
  if (!st.isFile()) throw new OutputPathError('OUTPUT_NOT_WRITABLE', `${file}: exists and is ${describeFileType(st)}, not a regular file`, { file });
  if (!plan.overwrite) throw new OutputPathError('OUTPUT_EXISTS', `${file}: already exists (pass --overwrite to replace it)`, { file });
}

/**
 * Plan the outputs of `detect --out`: every check that can be made before detecting, so a bad --out
 * fails up front with nothing written. Throws OutputPathError naming the path.
 */
export async function planOutputs(outDir: string, inputs: readonly string[], options: { overwrite?: boolean; ext?: string } = {}): Promise<OutputPlan> {
  await checkOutputDir(outDir);
  const plan: OutputPlan = { files: outputNames(outDir, inputs, options.ext), overwrite: options.overwrite ?? false, inputIds: await inputIdentities(inputs) };
  for (const file of plan.files) {
    await checkTarget(file, plan);
  }
  return plan;
}

/** Write one planned output atomically, re-checking the target (it may have appeared since planning). */
export async function writeOutput(plan: OutputPlan, index: number, data: Uint8Array): Promise<string> {
  const file = plan.files[index]!;
  await checkTarget(file, plan);
  try {
    await writeFileAtomic(file, data, { replace: plan.overwrite });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OutputPathError('OUTPUT_EXISTS', `${file}: appeared while writing (pass --overwrite to replace it)`, { file, cause: err });
    throw new OutputPathError('OUTPUT_NOT_WRITABLE', `${file}: cannot write (${code ?? String(err)})`, { file, cause: err });
  }
  return file;
}

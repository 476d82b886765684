// File helpers: atomic writes (temporary file + rename), sha256, and reading untrusted input paths.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { link, mkdir, open, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Write `data` to `file` via a temporary file in the same folder, then rename: readers never see a
 * half-written file, and a failed write leaves no temporary file behind. With `replace: false` an
 * existing `file` is never replaced, even one created meanwhile (link() fails with EEXIST instead).
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: { replace?: boolean } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // 'wx': O_EXCL, so a FIFO or symlink planted under the temporary name is never opened.
    await writeFile(tmp, data, { flag: 'wx' });
    if (options.replace === false) {
      await link(tmp, file);
      await rm(tmp, { force: true });
    } else {
      await rename(tmp, file);
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Names writeFileAtomic gives its temporary files: `.<name>.<pid>.<8 hex>.tmp` (group 1: the writer's pid). */
export const TEMP_FILE_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;
/** What a non-regular path is, for error messages. */
export function describeFileType(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export type ReadFailure = 'NOT_FOUND' | 'NOT_A_FILE' | 'TOO_LARGE' | 'UNREADABLE';

/**
 * Read a regular file whole, refusing anything else before it is opened for reading: a FIFO or device
 * would block or never end. The path is stat'ed first; the open itself is non-blocking and the opened
 * descriptor is checked to be that same regular file, so a path swapped in between cannot hang us.
 * `fail` turns a failure into the caller's typed error.
 */
export async function readRegularFile(file: string, maxBytes: number, fail: (kind: ReadFailure, message: string, cause?: unknown) => never): Promise<Buffer> {
  let st: Stats;
  try {
    st = await stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') fail('NOT_FOUND', 'no such file', err);
    fail('UNREADABLE', `cannot stat (${code ?? String(err)})`, err);
  }
  if (!st.isFile()) fail('NOT_A_FILE', `is ${describeFileType(st)}, not a regular file`);
  if (st.size > maxBytes) fail('TOO_LARGE', `file is ${st.size} bytes, above the limit of ${maxBytes} bytes`);
  let fh: FileHandle;
  try {
    fh = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (err) {
    fail('UNREADABLE', `cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  }
  try {
    const now = await fh.stat();
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) fail('NOT_A_FILE', 'was replaced by something that is not the regular file stat() saw');
    if (now.size > maxBytes) fail('TOO_LARGE', `file is ${now.size} bytes, above the limit of ${maxBytes} bytes`);
    const buf = Buffer.allocUnsafe(now.size);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break; // shrank meanwhile: decode what is there
      got += bytesRead;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

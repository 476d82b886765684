// Replacing a preset's artifacts so that an interrupted `convert` (SIGKILL at any moment) always leaves
// the manifest listing files that match it:
// - A preset has two folders, '<preset>' and '<preset>.next'. The manifest lists one of them; files
//   are only ever written into the one it does not list.
// - New files go to the unlisted folder, then one atomic manifest rename switches the preset to them.
//   When that folder was '<preset>.next', the files are copied back into '<preset>' (unlisted now) and
//   the manifest switches again, so a finished run always lists '<preset>/...' (byte-reproducible).
// - Temporary files (`.<name>.<pid>.<hex>.tmp`) of processes that no longer run, and unlisted
//   '<preset>.next' folders, are swept at the start and the end of every conversion.
// One conversion at a time per artifacts folder: a second one running concurrently could sweep the
// first one's unlisted folder.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactIntegrityError } from '../errors.js';
import { TEMP_FILE_PATTERN, writeFileAtomic } from '../util/fs.js';
import {
  fileRecord,
  MANIFEST_FILE,
  presetFolder,
  readManifest,
  readVerifiedFile,
  STAGING_SUFFIX,
  updateManifest,
  type FileRecord,
  type Manifest,
  type PresetRecord,
} from './manifest.js';

/** One artifact produced in memory: its path below the preset folder and its bytes. */
export interface PendingFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The manifest, or null when there is none or it is unreadable (convert then starts a new one). */
function currentManifest(root: string): Manifest | null {
  if (!existsSync(path.join(root, MANIFEST_FILE))) return null;
  try {
    return readManifest(root);
  } catch (err) {
    if (err instanceof ArtifactIntegrityError) return null;
    throw err;
  }
}

/**
 * Remove what interrupted conversions left behind: temporary files of processes no longer running
 * (anywhere below `root`), and '<x>.next' folders the manifest does not list. Returns the paths removed.
 */
export async function sweepStale(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const manifest = currentManifest(root);
  const listedFolders = new Set(Object.values(manifest?.presets ?? {}).flatMap((p) => p.files.map((f) => f.path.split('/')[0]!)));
  const removed: string[] = [];
  const walk = async (dir: string, top: boolean): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      const temp = TEMP_FILE_PATTERN.exec(entry.name);
      if (temp && !isRunning(Number(temp[1]))) {
        await rm(abs, { recursive: true, force: true });
        removed.push(abs);
      } else if (top && entry.isDirectory() && entry.name.endsWith(STAGING_SUFFIX) && !listedFolders.has(entry.name)) {
        await rm(abs, { recursive: true, force: true });
        removed.push(abs);
      } else if (entry.isDirectory() && !entry.isSymbolicLink()) {
        await walk(abs, false);
      }
    }
  };
  await walk(root, true);
  return removed;
}

async function writeFolder(root: string, folder: string, files: readonly PendingFile[]): Promise<FileRecord[]> {
  const dir = path.join(root, folder);
  // Unlisted: whatever an earlier run left here (e.g. a .pth the new files no longer include) goes.
  await rm(dir, { recursive: true, force: true });
  const records: FileRecord[] = [];
  for (const file of files) {
    const abs = path.join(dir, ...file.name.split('/'));
    await writeFileAtomic(abs, file.bytes);
    records.push(fileRecord(root, abs, file.bytes));
  }
  return records;
}

async function listedAndIntact(root: string, record: PresetRecord, wanted: PresetRecord): Promise<boolean> {
  if (JSON.stringify(record) !== JSON.stringify(wanted)) return false;
  try {
    await Promise.all(record.files.map((f) => readVerifiedFile(root, f)));
    return true;
  } catch {
    return false;
  }
}

/**
 * Make `files` the listed artifacts of `presetName` (see the header for the protocol). `record` gives the
 * source and skipped entries; its file records are computed here. Returns the final record.
 */
export async function commitPresetArtifacts(
  root: string,
  presetName: string,
  files: readonly PendingFile[],
  meta: Omit<PresetRecord, 'files'>,
  toolkit: string,
): Promise<PresetRecord> {
  await sweepStale(root);
  // Key order source, files, skipped: the manifest's bytes must not change with the code path.
  const recordWith = (fileRecords: FileRecord[]): PresetRecord => ({ source: meta.source, files: fileRecords, skipped: meta.skipped });
  const finalRecord = recordWith(files.map((f) => fileRecord(root, path.join(root, presetName, ...f.name.split('/')), f.bytes)));
  const previous = currentManifest(root)?.presets[presetName];
  // Same bytes already listed and intact: nothing to write.
  if (previous && (await listedAndIntact(root, previous, finalRecord))) {
    await updateManifest(root, { presets: { [presetName]: finalRecord } }, toolkit);
    return finalRecord;
  }
  const staging = `${presetName}${STAGING_SUFFIX}`;
  let listed: string | null = null;
  if (previous) {
    try {
      listed = presetFolder(root, presetName, previous);
    } catch {
      listed = null; // a record pointing elsewhere: treat as unlisted
    }
  }
  const target = listed === presetName ? staging : presetName;
  const staged = await writeFolder(root, target, files);
  await updateManifest(root, { presets: { [presetName]: recordWith(staged) } }, toolkit);
  if (target === staging) {
    // '<preset>' is unlisted now: bring the files home, switch again, drop the staging folder.
    await writeFolder(root, presetName, files);
    await updateManifest(root, { presets: { [presetName]: finalRecord } }, toolkit);
  }
  await rm(path.join(root, staging), { recursive: true, force: true });
  await sweepStale(root);
  return finalRecord;
}

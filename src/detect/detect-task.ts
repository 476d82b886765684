// One image of detectMany, in a worker thread or (concurrency 0) in the calling thread: detect, and
// optionally write the aligned face crops and the annotated image, all from one decode.
import { stat } from 'node:fs/promises';
import { ToolkitError } from '../errors.js';
import { decodeRgb, type DecodedRgb } from '../image/pixels.js';
import { faceCropsJpeg } from './crops.js';
import type { BatchEntry, Detector } from './detector.js';
import { drawDetectionsOriented } from './draw.js';
import { writeOutput } from './output-paths.js';
import { errorRecord, faceToRecord, type WorkerReply, type WorkerTask } from './detect-many-protocol.js';

export async function handleTask(detector: Detector, task: WorkerTask, maxInputPixels?: number): Promise<WorkerReply> {
  const { id, input, label, extras } = task;
  let entry: BatchEntry;
  let stored: DecodedRgb | undefined;
  if (extras && typeof input === 'string') {
    // One decode serves detection, crops and drawing (drawing modifies the pixels, so it runs last).
    try {
      stored = await decodeRgb(input, label, { maxInputPixels: maxInputPixels, orientation: 'defer' });
    } catch (err) {
      return { id, ok: false, error: errorRecord(err) };
    }
    [entry] = (await detector.detectBatch([{ data: stored.data, width: stored.width, height: stored.height, orientation: stored.orientation, label }])) as [BatchEntry];
  } else {
    [entry] = (await detector.detectBatch([typeof input === 'string' ? input : { ...input, label } as never])) as [BatchEntry];
  }
  if (!entry.ok) return { id, ok: false, error: errorRecord(entry.error) };
  const written: string[] = [];
  try {
    // Never overwrite this input (the caller checked the other inputs when it planned the names).
    const st = typeof input === 'string' ? await stat(input).catch(() => null) : null;
    const inputIds = new Set([...(extras?.inputIds ?? []), ...(st ? [`${st.dev}:${st.ino}`] : [])]);
    if (stored && extras?.crops) {
      const jpegs = await faceCropsJpeg(stored, stored.orientation, entry.faces);
      for (const [k, jpeg] of jpegs.entries()) {
        const file = `${extras.crops.stem}-face${k + 1}.jpg`;
        written.push(await writeOutput({ files: [file], overwrite: extras.overwrite, inputIds }, 0, jpeg));
      }
    }
    if (stored && extras?.annotated) {
      const bytes = await drawDetectionsOriented(stored, stored.orientation, entry.faces, { format: extras.annotated.format });
      written.push(await writeOutput({ files: [extras.annotated.file], overwrite: extras.overwrite, inputIds }, 0, bytes));
    }
  } catch (err) {
    if (!(err instanceof ToolkitError)) throw err;
    return { id, ok: false, error: errorRecord(err), written };
  }
  return { id, ok: true, width: entry.width, height: entry.height, faces: entry.faces.map(faceToRecord), written };
}


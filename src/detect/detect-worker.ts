// One worker thread of detectMany: its own detector (own backend session, 1 intra-op thread for
// onnxruntime-node), decoding and inference for the images it is sent, results as plain records.
// Optionally it also writes the annotated image and the aligned face crops, from the same decode.
import { parentPort, workerData } from 'node:worker_threads';
import { setOnnxruntimeNodeThreads } from '../backends/onnxruntime-node.js';
import { ToolkitError } from '../errors.js';
import { decodeRgb } from '../image/pixels.js';
import { faceCropsJpeg } from './crops.js';
import { createDetector, type BatchEntry, type Detector } from './detector.js';
import { drawDetectionsOriented } from './draw.js';
import { writeOutput } from './output-paths.js';
import { errorRecord, faceToRecord, type WorkerInit, type WorkerReply, type WorkerTask } from './detect-many-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;

async function handle(detector: Detector, task: WorkerTask): Promise<WorkerReply> {
  const { id, input, label, extras } = task;
  let entry: BatchEntry;
  let stored;
  if (extras && typeof input === 'string') {
    // One decode serves detection, crops and drawing (drawing modifies the pixels, so it runs last).
    try {
      stored = await decodeRgb(input, label, { maxInputPixels: init.options.maxInputPixels, orientation: 'defer' });
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
    if (stored && extras?.crops) {
      const jpegs = await faceCropsJpeg(stored, stored.orientation, entry.faces);
      for (const [k, jpeg] of jpegs.entries()) {
        const file = `${extras.crops.stem}-face${k + 1}.jpg`;
        written.push(await writeOutput({ files: [file], overwrite: extras.overwrite, inputIds: new Set(extras.inputIds) }, 0, jpeg));
      }
    }
    if (stored && extras?.annotated) {
      const bytes = await drawDetectionsOriented(stored, stored.orientation, entry.faces, { format: extras.annotated.format });
      written.push(await writeOutput({ files: [extras.annotated.file], overwrite: extras.overwrite, inputIds: new Set(extras.inputIds) }, 0, bytes));
    }
  } catch (err) {
    if (!(err instanceof ToolkitError)) throw err;
    return { id, ok: false, error: errorRecord(err), written };
  }
  return { id, ok: true, width: entry.width, height: entry.height, faces: entry.faces.map(faceToRecord), written };
}

async function main(): Promise<void> {
  if (init.intraOpThreads) setOnnxruntimeNodeThreads(init.intraOpThreads);
  let detector: Detector;
  try {
    detector = await createDetector(init.options);
  } catch (err) {
    port.postMessage({ type: 'init-error', error: errorRecord(err) });
    return;
  }
  port.postMessage({ type: 'ready', backend: detector.backend.name });
  port.on('message', (msg: WorkerTask | { type: 'close' }) => {
    if ('type' in msg) {
      void detector.dispose().then(() => port.close());
      return;
    }
    handle(detector, msg).then(
      (reply) => port.postMessage(reply),
      (err: unknown) => port.postMessage({ id: msg.id, ok: false, error: errorRecord(err) } satisfies WorkerReply),
    );
  });
}

void main();

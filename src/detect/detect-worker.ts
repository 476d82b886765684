// One worker thread of detectMany: its own detector (own backend session, 1 intra-op thread for
// onnxruntime-node), decoding and inference for the images it is sent, results as plain records.
// Optionally it also writes the annotated image and the aligned face crops, from the same decode.
import { parentPort, workerData } from 'node:worker_threads';
import { setOnnxruntimeNodeThreads } from '../backends/onnxruntime-node.js';
import { createDetector, type Detector } from './detector.js';
import { errorRecord, type WorkerInit, type WorkerReply, type WorkerTask } from './detect-many-protocol.js';
import { handleTask } from './detect-task.js';

const port = parentPort!;
const init = workerData as WorkerInit;

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
    handleTask(detector, msg, init.options.maxInputPixels).then(
      (reply) => port.postMessage(reply),
      (err: unknown) => port.postMessage({ id: msg.id, ok: false, error: errorRecord(err) } satisfies WorkerReply),
    );
  });
}

void main();

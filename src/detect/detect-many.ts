// detectMany: many images through a pool of worker threads, each with its own detector, as an async
// iterator of results in input order (or as they finish). Node only.
// Memory is bounded by `window` (images in flight or finished but waiting for their turn), not by the
// number of inputs: inputs are pulled from the (possibly lazy, async) iterable only as slots free up,
// and nothing is produced faster than the consumer takes it (an async generator runs on demand).
// Plain worker_threads rather than piscina/tinypool: the pool here needs ordered back-pressure, a
// per-worker init handshake (a detector that cannot load is a setup error, not N image errors) and a
// result entry for the task of a worker that died; that is ~100 lines, the same as adapting a pool.
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BackendError, InvalidOptionError, type ToolkitError } from '../errors.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { createDetector, type BatchEntry, type Detector, type DetectorOptions } from './detector.js';
import { handleTask } from './detect-task.js';
import { errorFromRecord, errorRecord, faceFromRecord, type ErrorRecord, type TaskExtras, type WorkerInit, type WorkerReply, type WorkerTask } from './detect-many-protocol.js';
import { inputLabel, type ImageInput } from './input.js';

export type { TaskExtras } from './detect-many-protocol.js';

export interface DetectManyOptions extends DetectorOptions {
  /** Worker threads (default: the number of cores), each with its own backend session; 0 runs in this thread. */
  readonly concurrency?: number;
  /** Yield in input order (default true); false yields each result as soon as it is ready. */
  readonly ordered?: boolean;
  /** Images in flight or waiting to be yielded, at most (default 4 per worker): the memory bound. */
  readonly window?: number;
  /** onnxruntime-node intra-op threads per worker (default 1: the workers are the parallelism). */
  readonly intraOpThreads?: number;
}

/** One result: a BatchEntry plus its position in the input sequence and any files written for it. */
export type ManyEntry = BatchEntry & { readonly index: number; readonly written?: readonly string[] };

/** One input, optionally with a label and files to write (the CLI's --out and --crops). */
export interface ManyTask {
  readonly input: ImageInput;
  readonly label?: string;
  readonly extras?: TaskExtras;
}

/**
 * The worker module: detect-worker.js beside this one in dist/ (tsc), or the ESM build's
 * dist/detect/detect-worker.js from the CommonJS bundle in dist/cjs/ (a worker may be ESM whatever its
 * parent is). From source (tsx, vitest) there is only detect-worker.ts, and Node 20 does not carry the
 * parent's loader hooks into workers, so it is bundled once by esbuild (a devDependency) into
 * node_modules/.cache/ inside the package, where package-root lookups from it still find the package.
 */
let sourceWorker: Promise<string> | undefined;
export async function workerFile(): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'detect-worker.js');
  if (existsSync(beside)) return beside;
  // Running from source: the source worker, never a dist/ build of it that may predate the source.
  const ts = path.join(here, 'detect-worker.ts');
  const built = path.join(PACKAGE_ROOT, 'dist', 'detect', 'detect-worker.js');
  if (!existsSync(ts) && existsSync(built)) return built;
  if (!existsSync(ts)) throw new BackendError('WORKER_NOT_FOUND', `detectMany: no detect-worker.js beside ${here} nor in ${path.join(PACKAGE_ROOT, 'dist', 'detect')} (run npm run build)`);
  sourceWorker ??= (async () => {
    const outfile = path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'blazeface-toolkit', `detect-worker-${process.pid}.mjs`);
    const { build } = await import('esbuild');
    await build({ entryPoints: [ts], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
    process.once('exit', () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return sourceWorker;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  loaded: boolean;
  /** Exited, or failed to load: takes no more images. */
  gone: boolean;
  inFlight: Map<number, (reply: WorkerReply) => void>;
}

/** Per worker, two images at a time: one decodes (sharp's thread pool) while the other runs inference. */
const PER_WORKER = 2;

interface Runner {
  ready(): Promise<void>;
  run(task: WorkerTask): Promise<WorkerReply>;
  close(): Promise<void>;
}

/** concurrency 0: the same tasks in the calling thread, on one detector (any options, even a backendFactory). */
class LocalRunner implements Runner {
  private readonly detector: Promise<Detector>;
  constructor(private readonly options: DetectorOptions) {
    this.detector = createDetector(options);
    this.detector.catch(() => undefined);
  }
  async ready(): Promise<void> {
    await this.detector;
  }
  async run(task: WorkerTask): Promise<WorkerReply> {
    try {
      return await handleTask(await this.detector, task, this.options.maxInputPixels);
    } catch (err) {
      return { id: task.id, ok: false, error: errorRecord(err) };
    }
  }
  async close(): Promise<void> {
    await (await this.detector.catch(() => null))?.dispose();
  }
}

class Pool implements Runner {
  private readonly slots: Slot[] = [];
  private readonly queue: { task: WorkerTask; resolve: (r: WorkerReply) => void }[] = [];
  private closed = false;
  private fatal: ToolkitError | undefined;

  constructor(private readonly init: WorkerInit, private readonly file: string, size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /**
   * Resolves as soon as one worker has loaded its detector (it starts on the first images while the
   * others load); rejects with the load error when the first worker to finish loading failed.
   */
  ready(): Promise<void> {
    return Promise.race(this.slots.map((s) => s.ready));
  }

  private spawn(): Slot {
    const worker = new Worker(pathToFileURL(this.file), { workerData: this.init });
    const slot: Slot = { worker, inFlight: new Map(), ready: Promise.resolve(), loaded: false, gone: false };
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerReply | { type: 'ready' } | { type: 'init-error'; error: ErrorRecord }) => {
        if ('type' in msg) {
          if (msg.type === 'ready') {
            slot.loaded = true;
            resolve();
            this.pump();
          } else {
            this.fatal = errorFromRecord(msg.error);
            slot.gone = true;
            reject(this.fatal);
            this.pump();
          }
          return;
        }
        const done = slot.inFlight.get(msg.id);
        slot.inFlight.delete(msg.id);
        done?.(msg);
        this.pump();
      });
      worker.on('error', (err) => {
        // An uncaught error inside the worker: its tasks become error entries; exit follows.
        slot.gone = true;
        reject(err);
        this.failInFlight(slot, `worker thread failed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        const wasLoaded = slot.loaded;
        slot.loaded = false;
        slot.gone = true;
        this.failInFlight(slot, `worker thread exited (code ${code})`);
        const i = this.slots.indexOf(slot);
        if (i >= 0 && !this.closed && !this.fatal && wasLoaded) {
          // Replace a worker that died after loading, so the remaining images still run (one that could
          // not even start is not retried: its replacement would fail the same way).
          this.slots[i] = this.spawn();
          this.slots[i]!.ready.catch(() => this.pump());
        } else {
          this.pump();
        }
      });
    });
    slot.ready.catch(() => undefined);
    return slot;
  }

  private failInFlight(slot: Slot, why: string): void {
    for (const [id, done] of slot.inFlight) done({ id, ok: false, error: { name: 'BackendError', code: 'WORKER_DIED', message: why } });
    slot.inFlight.clear();
  }

  private failQueue(): void {
    const error = this.fatal ?? new BackendError('WORKER_DIED', 'a replacement worker could not start');
    for (const { task, resolve } of this.queue.splice(0)) resolve({ id: task.id, ok: false, error: { name: error.name, code: error.code, message: error.message } });
  }

  run(task: WorkerTask): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.queue.push({ task, resolve });
      this.pump();
    });
  }

  private pump(): void {
    // No worker left that could take them: the queued images get the load error instead of waiting forever.
    if (!this.closed && this.slots.every((s) => s.gone)) {
      this.failQueue();
      return;
    }
    // Only loaded workers take images, so the first images do not wait for the slowest worker to load.
    for (const slot of this.slots) {
      while (slot.loaded && this.queue.length > 0 && slot.inFlight.size < PER_WORKER) {
        const { task, resolve } = this.queue.shift()!;
        slot.inFlight.set(task.id, resolve);
        slot.worker.postMessage(task);
      }
    }
  }

  /**
   * Ask each worker to dispose its detector and exit; terminate only one that does not within 5 s.
   * (Terminating a thread in the middle of native work, ONNX Runtime or libvips, can abort the process.)
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.gone) return;
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        s.worker.postMessage({ type: 'close' });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 5000)));
        if ((await Promise.race([exited, late])) === 'late') await s.worker.terminate();
        clearTimeout(timer);
      }),
    );
  }
}

function toEntry(task: ManyTask, index: number, reply: WorkerReply): ManyEntry {
  const input = task.label ?? inputLabel(task.input, index);
  if (reply.ok) return { ok: true, index, input, width: reply.width, height: reply.height, faces: reply.faces.map(faceFromRecord), written: reply.written };
  return { ok: false, index, input, error: errorFromRecord(reply.error), written: reply.written };
}

function isTask(x: unknown): x is ManyTask {
  return typeof x === 'object' && x !== null && 'input' in x && !(x instanceof Uint8Array);
}

/**
 * Detect faces in many images with `concurrency` worker threads. Yields one entry per input (errors as
 * `ok: false` entries with a typed error, never a throw); throws only when the detector cannot be
 * created at all (the first worker's load error, e.g. BACKEND_NOT_INSTALLED). Inputs may be an array,
 * any iterable or async iterable, read lazily.
 */
export async function* detectMany(
  inputs: Iterable<ImageInput | ManyTask> | AsyncIterable<ImageInput | ManyTask>,
  options: DetectManyOptions = {},
): AsyncGenerator<ManyEntry, void, undefined> {
  const { concurrency = os.availableParallelism(), ordered = true, window: windowOpt, intraOpThreads = 1, ...detectorOptions } = options;
  if (!Number.isInteger(concurrency) || concurrency < 0) throw new InvalidOptionError('concurrency', `detectMany: concurrency must be an integer >= 0, got ${String(concurrency)}`);
  const window = windowOpt ?? Math.max(1, concurrency) * PER_WORKER * 2;
  if (!Number.isInteger(window) || window < 1) throw new InvalidOptionError('window', `detectMany: window must be an integer >= 1, got ${String(window)}`);
  if (concurrency > 0 && (detectorOptions.backendFactory || detectorOptions.source)) {
    throw new InvalidOptionError('backendFactory', 'detectMany: backendFactory and source cannot cross into worker threads; pass backend/preset names, or concurrency 0');
  }
  const pool: Runner = concurrency === 0 ? new LocalRunner(detectorOptions) : new Pool({ options: detectorOptions, intraOpThreads }, await workerFile(), concurrency);
  const iterator = Symbol.asyncIterator in inputs ? inputs[Symbol.asyncIterator]() : (inputs as Iterable<ImageInput | ManyTask>)[Symbol.iterator]();
  try {
    await pool.ready();
    let read = 0;
    let emitted = 0;
    let exhausted = false;
    const pending = new Map<number, Promise<void>>();
    const ready = new Map<number, ManyEntry>();
    for (;;) {
      while (!exhausted && pending.size + ready.size < window) {
        const r = await iterator.next();
        if (r.done) {
          exhausted = true;
          break;
        }
        const index = read++;
        const task: ManyTask = isTask(r.value) ? r.value : { input: r.value };
        const label = task.label ?? inputLabel(task.input, index);
        const input = task.input as WorkerTask['input'];
        pending.set(
          index,
          pool.run({ id: index, input, label, extras: task.extras }).then((reply) => {
            pending.delete(index);
            ready.set(index, toEntry({ ...task, label }, index, reply));
          }),
        );
      }
      const next = ordered ? (ready.has(emitted) ? emitted : undefined) : ready.keys().next().value;
      if (next !== undefined) {
        const entry = ready.get(next)!;
        ready.delete(next);
        emitted++;
        yield entry;
        continue;
      }
      if (pending.size === 0) break;
      await Promise.race(pending.values());
    }
  } finally {
    await iterator.return?.();
    await pool.close();
  }
}

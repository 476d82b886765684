// detectMany when a worker thread dies while it holds images: those images become WORKER_DIED entries,
// a replacement worker takes the rest, and every input still gets exactly one entry, in order.
// The pool's Worker class is wrapped here (vi.mock of node:worker_threads) so the test can kill the
// first worker at a chosen moment; the production code has no test hook.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const spawned: { terminate(): Promise<number> }[] = [];
let killFirstWorkerOnTask = false;

vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends real.Worker {
    private swallowing = false;
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      spawned.push(this);
    }
    override postMessage(message: unknown, transfer?: readonly import('node:worker_threads').TransferListItem[]): void {
      const isTask = typeof message === 'object' && message !== null && 'id' in message;
      // The first worker never sees its images: it is terminated while they are in flight (an idle
      // thread, so terminating it is safe, unlike one in the middle of native inference).
      if (isTask && killFirstWorkerOnTask && spawned[0] === this) {
        if (!this.swallowing) {
          this.swallowing = true;
          setTimeout(() => void this.terminate(), 50);
        }
        return;
      }
      super.postMessage(message, transfer);
    }
  }
  return { ...real, default: { ...real, Worker: RecordedWorker }, Worker: RecordedWorker };
});

const { detectMany } = await import('../src/detect/detect-many.js');

let dir: string;
const files: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'worker-death-'));
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, `grey${i}.png`);
    await writeFile(file, await sharp({ create: { width: 48 + i, height: 40, channels: 3, background: { r: 90 + i, g: 90, b: 90 } } }).png().toBuffer());
    files.push(file);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('detectMany with a worker that dies', () => {
  it('gives the images it held WORKER_DIED entries and runs the rest on a replacement worker', async () => {
    killFirstWorkerOnTask = true;
    const entries = [];
    for await (const e of detectMany(files, { preset: 'short_range', backend: 'onnxruntime-node', concurrency: 1 })) entries.push(e);
    killFirstWorkerOnTask = false;

    expect(spawned.length).toBe(2); // the first worker and its replacement
    expect(entries.map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(entries.map((e) => e.input)).toEqual(files);
    const died = entries.filter((e) => !e.ok);
    // The pool hands a worker two images at a time: both were in flight when it died.
    expect(died.map((e) => e.index)).toEqual([0, 1]);
    for (const e of died) {
      if (e.ok) continue;
      expect(e.error).toMatchObject({ code: 'WORKER_DIED', message: expect.stringMatching(/worker thread exited \(code \d+\)/) });
    }
    for (const e of entries.slice(2)) {
      expect(e.ok).toBe(true);
      if (e.ok) expect(e.faces).toEqual([]);
    }
  }, 120_000);
});

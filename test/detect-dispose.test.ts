// dispose() while detect() calls are in flight: the calls already started finish on the live backend,
// the backend is released once after them, and later calls fail with a typed error.
import { describe, expect, it } from 'vitest';
import type { Backend, BackendFactory, ModelSource, RawOutputs } from '../src/backends/backend.js';
import { createDetector } from '../src/detect/detector.js';
import { ToolkitError } from '../src/errors.js';
import { getPreset } from '../src/presets/index.js';

const preset = getPreset('short_range');
const A = preset.decode.numBoxes;

/** A backend that, like onnxruntime-node's session, rejects runs once released; each run waits for `release()`. */
function gatedBackend() {
  const events: string[] = [];
  const waiting: (() => void)[] = [];
  let released = false;
  const backend: Backend = {
    name: 'onnxruntime-node',
    version: 'gated stand-in',
    artifact: 'in-memory',
    notes: [],
    async run(batch): Promise<RawOutputs> {
      if (released) throw new Error('Session already disposed.');
      events.push('run');
      await new Promise<void>((resolve) => waiting.push(resolve));
      if (released) throw new Error('Session already disposed.');
      events.push('run done');
      const n = batch.shape[0];
      return { regressors: new Float32Array(n * A * 16), classificators: new Float32Array(n * A).fill(-50), batch: n, numAnchors: A, numCoords: 16 };
    },
    async dispose() {
      events.push('dispose');
      released = true;
    },
  };
  const factory: BackendFactory = { name: 'onnxruntime-node', runs: 'model.onnx', availability: async () => ({ available: true }), load: async () => backend };
  return { factory, events, waiting };
}

const image = { data: new Uint8Array(128 * 128 * 3), width: 128, height: 128 };

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('Detector.dispose with calls in flight', () => {
  it('lets started detect() and detectBatch() calls finish before releasing the backend', async () => {
    const { factory, events, waiting } = gatedBackend();
    const detector = await createDetector({ preset, backendFactory: factory, source: {} as ModelSource });
    const one = detector.detect(image);
    const many = detector.detectBatch([image, image]);
    await until(() => waiting.length === 2);
    const disposed = detector.dispose();
    const again = detector.dispose();
    for (const go of waiting) go();
    await expect(one).resolves.toEqual([]);
    await expect(many).resolves.toMatchObject([{ ok: true, faces: [] }, { ok: true, faces: [] }]);
    await Promise.all([disposed, again]);
    expect(events).toEqual(['run', 'run', 'run done', 'run done', 'dispose']);
  });

  it('rejects calls made after dispose() with a typed error, without touching the backend', async () => {
    const { factory, events } = gatedBackend();
    const detector = await createDetector({ preset, backendFactory: factory, source: {} as ModelSource });
    await detector.dispose();
    for (const call of [() => detector.detect(image), () => detector.detectBatch([image, 'missing.png'])]) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ToolkitError);
      expect((err as ToolkitError).code).toBe('DETECTOR_DISPOSED');
    }
    expect(events).toEqual(['dispose']);
  });
});

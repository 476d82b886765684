// checkImageBatch (the batch check every backend and the reference runtime share) and the backend registry.
import { describe, expect, it } from 'vitest';
import { checkImageBatch } from '../src/ir/batch.js';
import type { ImageBatch } from '../src/backends/backend.js';
import { InputImageError, ToolkitError } from '../src/errors.js';
import type { Graph } from '../src/ir/graph.js';

const graph = {
  source: { fileName: 'm.tflite', sha256: '', byteLength: 0 },
  tensors: [{ index: 0, name: 'input', shape: [1, 2, 2, 3], dtype: 'float32', sourceDtype: 'float32', buffer: 0 }],
  inputs: [0],
} as unknown as Graph;

const batch = (shape: number[], length: number): ImageBatch => ({ shape: shape as unknown as ImageBatch['shape'], data: new Float32Array(length) });

describe('checkImageBatch', () => {
  it('returns N for a fitting batch of any size', () => {
    expect(checkImageBatch(graph, batch([1, 2, 2, 3], 12), 'x')).toBe(1);
    expect(checkImageBatch(graph, batch([5, 2, 2, 3], 60), 'x')).toBe(5);
  });

  it('refuses wrong rank, N < 1, fractional N, wrong H/W/C and wrong data length, naming where', () => {
    for (const [shape, length] of [
      [[2, 2, 3], 12],
      [[0, 2, 2, 3], 0],
      [[1.5, 2, 2, 3], 18],
      [[1, 3, 2, 3], 18],
      [[1, 2, 2, 4], 16],
      [[2, 2, 2, 3], 12],
      [[1, 2, 2, 3], 24],
    ] as const) {
      const err = (() => {
        try {
          checkImageBatch(graph, batch([...shape], length), 'onnxruntime-node (model.onnx)');
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, `[${shape.join(',')}] with ${length} values`).toBeInstanceOf(InputImageError);
      expect((err as InputImageError).code).toBe('BATCH_SHAPE');
      expect((err as Error).message).toMatch(/^onnxruntime-node \(model\.onnx\): batch .* does not fit the model input 'input': expects \[N,2,2,3\]/);
    }
  });
});

describe('getBackendFactory', () => {
  it('names an unknown backend with a typed error listing the known ones', async () => {
    const { getBackendFactory } = await import('../src/backends/index.js');
    const err = await getBackendFactory('tensorrt').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolkitError);
    expect((err as ToolkitError).code).toBe('UNKNOWN_BACKEND');
    expect((err as Error).message).toMatch(/^unknown backend 'tensorrt'; expected one of reference, tflite, onnxruntime-node/);
  });
});

// The float64 reference interpreter as a backend: the oracle every other runtime is compared to.
import { runReference } from '../reference/runtime.js';
import { TOOLKIT_VERSION } from '../version.js';
import type { Backend, BackendFactory, ImageBatch, ModelSource, RawOutputs } from './backend.js';

export const referenceBackend: BackendFactory = {
  name: 'reference',
  runs: 'tflite',
  async availability() {
    return { available: true };
  },
  async load(source: ModelSource): Promise<Backend> {
    const { graph } = source;
    return {
      name: 'reference',
      version: `${TOOLKIT_VERSION} (float64 interpreter)`,
      artifact: `${source.tflitePath} (Graph IR)`,
      notes: ['interprets the Graph IR op by op in float64 (weights widened from float32), any batch N'],
      async run(batch: ImageBatch): Promise<RawOutputs> {
        return runReference(graph, batch);
      },
      async dispose() {},
    };
  },
};

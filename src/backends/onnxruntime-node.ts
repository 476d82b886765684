// Backend: ONNX Runtime's native Node binding (CPU execution provider) running model.onnx.
import { createRequire } from 'node:module';
import { installedPackageVersion } from '../version.js';
import type { Availability, Backend, BackendFactory, ModelSource } from './backend.js';
import { createOrtBackend, type OrtModule } from './onnxruntime-common.js';

const PACKAGE = 'onnxruntime-node';

export const onnxruntimeNodeBackend: BackendFactory = {
  name: 'onnxruntime-node',
  runs: 'model.onnx',

  async availability(): Promise<Availability> {
    try {
      createRequire(import.meta.url).resolve(PACKAGE);
      return { available: true };
    } catch {
      return { available: false, reason: `npm package ${PACKAGE} is not installed` };
    }
  },

  async load(source: ModelSource): Promise<Backend> {
    const ort = (await import(PACKAGE)) as unknown as OrtModule;
    return createOrtBackend({
      name: 'onnxruntime-node',
      version: `${PACKAGE} ${installedPackageVersion(PACKAGE) ?? 'unknown'}`,
      ort,
      source,
      sessionOptions: { executionProviders: ['cpu'] },
      notes: ['native CPU execution provider, default graph optimizations'],
    });
  },
};

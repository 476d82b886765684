// Backend: ONNX Runtime's native Node binding (CPU execution provider) running model.onnx.
import { createRequire } from 'node:module';
import { installedPackageVersion } from '../version.js';
import type { Availability, Backend, BackendFactory, ModelSource } from './backend.js';
import { createOrtBackend, type OrtModule } from './onnxruntime-common.js';

const PACKAGE = 'onnxruntime-node';

// Intra-op threads of sessions loaded from now on in this thread (undefined: ONNX Runtime's default, one
// per core). detectMany's workers set 1, since N workers each using every core would oversubscribe it.
let intraOpNumThreads: number | undefined;
export function setOnnxruntimeNodeThreads(n: number | undefined): void {
  intraOpNumThreads = n;
}

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
      sessionOptions: { executionProviders: ['cpu'], ...(intraOpNumThreads ? { intraOpNumThreads } : {}) },
      notes: ['native CPU execution provider, default graph optimizations'],
    });
  },
};

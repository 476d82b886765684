// Backend registry: every runtime by name, each loaded on demand so an optional runtime that is
// missing (tfjs-node, PyTorch) costs nothing until asked for and then says why it is unavailable.
import type { BackendFactory, BackendName } from './backend.js';
import { ToolkitError } from '../errors.js';
import { BACKEND_NAMES } from './backend.js';

export type { Backend, BackendFactory, BackendName, ImageBatch, ModelSource, RawOutputs } from './backend.js';
export { BACKEND_NAMES } from './backend.js';

const LOADERS: Record<BackendName, () => Promise<BackendFactory>> = {
  reference: async () => (await import('./reference.js')).referenceBackend,
  tflite: async () => (await import('./tflite.js')).tfliteBackend,
  'onnxruntime-node': async () => (await import('./onnxruntime-node.js')).onnxruntimeNodeBackend,
  'onnxruntime-web': async () => (await import('./onnxruntime-web.js')).onnxruntimeWebBackend,
  'tfjs-wasm': async () => (await import('./tfjs.js')).tfjsWasmBackend,
  'tfjs-cpu': async () => (await import('./tfjs.js')).tfjsCpuBackend,
  'tfjs-node': async () => (await import('./tfjs.js')).tfjsNodeBackend,
  torch: async () => (await import('./torch.js')).torchBackend,
};

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

export async function getBackendFactory(name: BackendName | string): Promise<BackendFactory> {
  if (!isBackendName(name)) {
    throw new ToolkitError('UNKNOWN_BACKEND', `unknown backend '${name}'; expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  return LOADERS[name]();
}


// Backend registry: every runtime by name, each loaded on demand so an optional runtime that is
// missing (tfjs-node, PyTorch) costs nothing until asked for and then says why it is unavailable.
//
// Only onnxruntime-node comes with a default install (an optional dependency: npm drops it when its
// postinstall fails). Every other runtime package is an optional peer dependency. A backend whose
// packages are missing is never imported: its factory reports BACKEND_NOT_INSTALLED naming them.
import type { BackendFactory, BackendName } from './backend.js';
import { BackendUnavailableError, ToolkitError } from '../errors.js';
import { installedPackageVersion } from '../version.js';
import { BACKEND_NAMES } from './backend.js';

export type { Backend, BackendFactory, BackendName, ImageBatch, ModelSource, RawOutputs } from './backend.js';
export { BACKEND_NAMES } from './backend.js';

const TFJS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];

interface Entry {
  readonly runs: BackendFactory['runs'];
  /** npm packages the backend's module imports. */
  readonly packages: readonly string[];
  readonly load: () => Promise<BackendFactory>;
}

const REGISTRY: Record<BackendName, Entry> = {
  reference: { runs: 'tflite', packages: [], load: async () => (await import('./reference.js')).referenceBackend },
  tflite: { runs: 'tflite', packages: ['@tensorflow/tfjs-tflite', '@tensorflow/tfjs-core'], load: async () => (await import('./tflite.js')).tfliteBackend },
  'onnxruntime-node': { runs: 'model.onnx', packages: ['onnxruntime-node'], load: async () => (await import('./onnxruntime-node.js')).onnxruntimeNodeBackend },
  'onnxruntime-web': { runs: 'model.onnx', packages: ['onnxruntime-web'], load: async () => (await import('./onnxruntime-web.js')).onnxruntimeWebBackend },
  'tfjs-wasm': { runs: 'tfjs/model.json', packages: TFJS, load: async () => (await import('./tfjs.js')).tfjsWasmBackend },
  'tfjs-cpu': { runs: 'tfjs/model.json', packages: TFJS, load: async () => (await import('./tfjs.js')).tfjsCpuBackend },
  // tfjs-node itself is optional inside the module (its factory reports it); the module needs the tfjs core packages.
  'tfjs-node': { runs: 'tfjs/model.json', packages: TFJS, load: async () => (await import('./tfjs.js')).tfjsNodeBackend },
  torch: { runs: 'blazeface.pth', packages: [], load: async () => (await import('./torch.js')).torchBackend },
};

/** The backend `createDetector` and the CLI use when none is named: the first whose packages are installed. */
export const DEFAULT_BACKEND_ORDER: readonly BackendName[] = ['onnxruntime-node', 'onnxruntime-web', 'reference'];

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** The npm packages `name` needs that are not installed (empty when it can be imported). */
export function missingBackendPackages(name: BackendName): string[] {
  return REGISTRY[name].packages.filter((p) => installedPackageVersion(p) === null);
}

/** 'auto' resolves to the first backend of DEFAULT_BACKEND_ORDER whose packages are installed. */
export function resolveBackendName(name: BackendName | 'auto'): BackendName {
  if (name !== 'auto') return name;
  return DEFAULT_BACKEND_ORDER.find((b) => missingBackendPackages(b).length === 0) ?? 'reference';
}

/** A factory for a backend whose packages are missing: unavailable, and load() throws BACKEND_NOT_INSTALLED. */
function notInstalled(name: BackendName, missing: readonly string[]): BackendFactory {
  const reason =
    `backend ${name} needs the npm package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not installed; ` +
    `add ${missing.length > 1 ? 'them' : 'it'}: npm install ${missing.join(' ')}` +
    (missing.includes('onnxruntime-node') ? ' (set ONNXRUNTIME_NODE_INSTALL=skip where its postinstall cannot reach NuGet)' : '');
  return {
    name,
    runs: REGISTRY[name].runs,
    availability: async () => ({ available: false, reason, missingPackages: missing }),
    load: async () => {
      throw new BackendUnavailableError('BACKEND_NOT_INSTALLED', reason);
    },
  };
}

export async function getBackendFactory(name: BackendName | string): Promise<BackendFactory> {
  if (!isBackendName(name)) {
    throw new ToolkitError('UNKNOWN_BACKEND', `unknown backend '${name}'; expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  const missing = missingBackendPackages(name);
  return missing.length > 0 ? notInstalled(name, missing) : REGISTRY[name].load();
}

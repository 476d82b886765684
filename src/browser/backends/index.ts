// Browser backend registry, by name; each runtime's package is imported only when its backend loads.
import { ToolkitError } from '../../errors.js';
import { ortWasmBrowserBackend, ortWebglBrowserBackend, ortWebgpuBrowserBackend } from './onnxruntime-web.js';
import { tfjsCpuBrowserBackend, tfjsWasmBrowserBackend, tfjsWebglBrowserBackend, tfjsWebgpuBrowserBackend } from './tfjs.js';
import { tfliteBrowserBackend } from './tflite.js';
import { BROWSER_BACKEND_NAMES, type BrowserBackendFactory, type BrowserBackendName } from './types.js';

export * from './types.js';

const FACTORIES: Record<BrowserBackendName, BrowserBackendFactory> = {
  'tfjs-webgl': tfjsWebglBrowserBackend,
  'tfjs-wasm': tfjsWasmBrowserBackend,
  'tfjs-cpu': tfjsCpuBrowserBackend,
  'tfjs-webgpu': tfjsWebgpuBrowserBackend,
  'onnxruntime-web-wasm': ortWasmBrowserBackend,
  'onnxruntime-web-webgl': ortWebglBrowserBackend,
  'onnxruntime-web-webgpu': ortWebgpuBrowserBackend,
  tflite: tfliteBrowserBackend,
};

/** 'onnxruntime-web' alone means its wasm execution provider. */
const ALIASES: Record<string, BrowserBackendName> = { 'onnxruntime-web': 'onnxruntime-web-wasm' };

export function getBrowserBackendFactory(name: string): BrowserBackendFactory {
  const resolved = ALIASES[name] ?? name;
  if (!(BROWSER_BACKEND_NAMES as readonly string[]).includes(resolved)) {
    throw new ToolkitError('UNKNOWN_BACKEND', `unknown browser backend '${name}'; expected one of ${BROWSER_BACKEND_NAMES.join(', ')}, or onnxruntime-web`);
  }
  return FACTORIES[resolved as BrowserBackendName];
}

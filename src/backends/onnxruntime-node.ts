// Backend: ONNX Runtime's native Node binding (CPU execution provider) running model.onnx.
import { createRequire } from 'node:module';
import { installedPackageVersion } from '../version.js';
import type { Availability, Backend, BackendFactory, ModelSource } from './backend.js';
import { createOrtBackend, type OrtModule } from './onnxruntime-common.js';

const PACKAGE = 'onnxruntime-node';

/** Session choices the bench compares; the backend uses ORT_NODE_DEFAULTS. */
export interface OrtNodeSessionChoice {
  /** Intra-op threads (ORT's own default is one per core). */
  readonly threads: number;
  /** Let idle pool threads spin waiting for work (ORT's default: on). */
  readonly spinning: boolean;
}

/**
 * Measured with npm run bench (README, Performance): at batch 1 the graph's ops are too small for a
 * second thread to pay for its synchronisation on 2 cores, and a spinning pool burns a core per idle
 * thread between frames. So: one thread, no spinning, full graph optimisation (ORT's NCHWc rewrite).
 */
export const ORT_NODE_DEFAULTS: OrtNodeSessionChoice = { threads: 1, spinning: false };

export function ortNodeSessionOptions(choice: Partial<OrtNodeSessionChoice> = {}): Record<string, unknown> {
  const { threads, spinning } = { ...ORT_NODE_DEFAULTS, ...choice };
  const spin = spinning ? '1' : '0';
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Flattened by the binding into session config keys session.intra_op.allow_spinning etc.
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  };
}

// Intra-op threads of sessions loaded from now on in this thread (undefined: ORT_NODE_DEFAULTS.threads).
// detectMany's workers set 1 explicitly, since N workers each using every core would oversubscribe it.
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
      sessionOptions: ortNodeSessionOptions(intraOpNumThreads ? { threads: intraOpNumThreads } : {}),
      notes: [`native CPU execution provider, all graph optimizations, ${intraOpNumThreads ?? ORT_NODE_DEFAULTS.threads} intra-op thread(s), spinning ${ORT_NODE_DEFAULTS.spinning ? 'on' : 'off'}`],
    });
  },
};

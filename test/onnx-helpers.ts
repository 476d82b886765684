// Shared by the ONNX tests: the python checker, seeded inputs, and the parity measure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/util/random.js';
import { scaledDiff, type ScaledDiff } from './helpers/tolerance.js';

export const PYTHON = '/usr/bin/python3';
const CHECK_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'python', 'check_onnx.py');

/** Whether /usr/bin/python3 can `import onnx` (the checker test is skipped otherwise). */
export function pythonOnnxAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  return r.status === 0;
}

export interface CheckResult {
  ok: boolean;
  error?: string;
  nodes?: number;
  ir_version?: number;
  opsets?: Record<string, number>;
  inputs?: Record<string, (string | number)[]>;
  outputs?: Record<string, (string | number)[]>;
  metadata_keys?: string[];
}

/** Run python/check_onnx.py (onnx.checker full_check + strict shape inference) on the bytes. */
export function checkOnnx(bytes: Uint8Array): CheckResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'onnx-check-'));
  try {
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, bytes);
    const r = spawnSync(PYTHON, [CHECK_SCRIPT, file], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as CheckResult;
    } catch {
      return { ok: false, error: `checker printed no JSON (status ${r.status}): ${r.stderr}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The seeded generator under the name the ONNX tests use. */
export const seededRandom = mulberry32;

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export type Parity = Pick<ScaledDiff, 'maxAbs' | 'maxScaled' | 'worstIndex'>;

/** The ONNX tests' view of scaledDiff (got first): the figures only, since they bound maxScaled themselves (1e-4 or 1e-5). */
export function parity(got: ArrayLike<number>, ref: ArrayLike<number>): Parity {
  const { maxAbs, maxScaled, worstIndex } = scaledDiff(ref, got);
  return { maxAbs, maxScaled, worstIndex };
}

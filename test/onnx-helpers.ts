// Shared by the ONNX tests: the python checker, seeded inputs, and the parity measure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** mulberry32: a small deterministic generator for test inputs and weights. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export interface Parity {
  /** max |got - ref| */
  maxAbs: number;
  /** max |got - ref| / (1 + |ref|): the tolerance measure (must be <= 1e-4). */
  maxScaled: number;
  worstIndex: number;
}

export function parity(got: ArrayLike<number>, ref: ArrayLike<number>): Parity {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != reference ${ref.length}`);
  let maxAbs = 0;
  let maxScaled = 0;
  let worstIndex = -1;
  for (let i = 0; i < ref.length; i++) {
    let d = Math.abs(got[i]! - ref[i]!);
    if (Number.isNaN(d)) d = Infinity; // NaN on either side must fail the tolerance
    const s = Number.isFinite(d) ? d / (1 + Math.abs(ref[i]!)) : Infinity;
    if (d > maxAbs) maxAbs = d;
    if (s > maxScaled || worstIndex < 0) {
      maxScaled = s;
      worstIndex = i;
    }
  }
  return { maxAbs, maxScaled, worstIndex };
}

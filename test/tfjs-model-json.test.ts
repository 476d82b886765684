// model.json attribute checks (src/emit/tfjs/model-json.ts): a fractional or zero stride once reached
// tfjs-backend-wasm's kernels and ended as "memory access out of bounds" (npm run fuzz, seed 20261203,
// cases 3278 and 4490); now it is TFJS_MODEL_JSON naming the node and attribute, before tfjs sees it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModelJson } from '../src/emit/tfjs/model-json.js';
import { REPO_ROOT } from '../src/fixtures.js';

const label = 'full_range/tfjs/model.json';
const original = JSON.parse(readFileSync(path.join(REPO_ROOT, 'artifacts', 'full_range', 'tfjs', 'model.json'), 'utf8')) as {
  modelTopology: { node: { name: string; attr?: Record<string, { list?: { i?: unknown[] }; i?: unknown }> }[] };
};

function withStride(value: unknown): unknown {
  const json = structuredClone(original);
  const node = json.modelTopology.node.find((n) => n.attr?.strides?.list?.i)!;
  node.attr!.strides!.list!.i![2] = value;
  return json;
}

describe('model.json integer attributes', () => {
  it('the emitted model.json passes', () => {
    expect(() => checkModelJson(original, label)).not.toThrow();
    expect(original.modelTopology.node.filter((n) => n.attr?.strides).length).toBeGreaterThan(10);
  });

  it.each([[1.5], ['1.5'], [0], ['-2'], ['x'], [null]])('a stride of %j is TFJS_MODEL_JSON naming the node and attribute', (value) => {
    expect(() => checkModelJson(withStride(value), label)).toThrow(expect.objectContaining({ code: 'TFJS_MODEL_JSON', message: expect.stringMatching(/node\[\d+\] \(".+"\) attr strides: .* is not a positive integer/) }));
  });

  it('integer strings and numbers are accepted', () => {
    expect(() => checkModelJson(withStride('2'), label)).not.toThrow();
    expect(() => checkModelJson(withStride(2), label)).not.toThrow();
  });
});

// Structural mutations of JSON documents (tfjs model.json, artifacts/manifest.json): pick a node by its
// path and delete, retype or replace it with a hostile value (huge or negative sizes, path traversal,
// device files), or duplicate / drop array items. Falls back to byte mutations of the text sometimes.
import { genericMutation, int, pick, type Mutated, type Rng } from './mutate.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(node: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(node)) {
    // Long arrays (graph nodes, weights): sample a few items so paths stay cheap.
    const step = Math.max(1, Math.floor(node.length / 16));
    for (let i = 0; i < node.length; i += step) paths(node[i]!, [...prefix, i], out);
  } else if (node && typeof node === 'object') {
    for (const k of Object.keys(node)) paths(node[k]!, [...prefix, k], out);
  }
  return out;
}

const HOSTILE: readonly Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e300,
  2 ** 53,
  4294967296,
  '',
  'x',
  '../../../../etc/hostname',
  '/dev/zero',
  '/dev/urandom',
  '..',
  'a\u0000b',
  'float64',
  'int8',
  'string',
  [],
  [-1],
  [1e9, 1e9],
  [2 ** 31, 2 ** 31, 2 ** 31],
  {},
  { length: 1e9 },
];

function describe(p: (string | number)[]): string {
  return p.length === 0 ? '$' : `$${p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function mutateJson(text: string, rng: Rng): Mutated {
  if (rng() < 0.25) return genericMutation(Buffer.from(text), rng);
  const doc = JSON.parse(text) as Json;
  const all = paths(doc).filter((p) => p.length > 0);
  const target = pick(rng, all);
  const parentPath = target.slice(0, -1);
  const key = target[target.length - 1]!;
  let parent: Json = doc;
  for (const k of parentPath) parent = (parent as Record<string | number, Json>)[k]!;
  const container = parent as Record<string | number, Json> & Json[];
  const old = container[key];
  const op = pick(rng, ['delete', 'replace', 'replace', 'replace', 'numberEdit', 'duplicate', 'truncateArray'] as const);
  let what: string;
  if (op === 'delete') {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key];
    what = `deleted ${describe(target)}`;
  } else if (op === 'numberEdit' && typeof old === 'number') {
    const v = pick(rng, [0, -old, old + 1, old * 2, old * 1000, Number.MAX_SAFE_INTEGER, -1, 0.5]);
    container[key] = v;
    what = `${describe(target)} ${old} -> ${v}`;
  } else if (op === 'duplicate' && Array.isArray(old) && old.length > 0) {
    const times = pick(rng, [1, 2, 100]);
    const item = old[int(rng, old.length)]!;
    for (let k = 0; k < times; k++) old.push(JSON.parse(JSON.stringify(item)) as Json);
    what = `${describe(target)}: appended ${times} copies of an item`;
  } else if (op === 'truncateArray' && Array.isArray(old)) {
    const n = int(rng, old.length + 1);
    old.length = n;
    what = `${describe(target)} cut to ${n} items`;
  } else {
    const v = pick(rng, HOSTILE);
    container[key] = JSON.parse(JSON.stringify(v)) as Json;
    what = `${describe(target)} ${short(old)} -> ${short(v)}`;
  }
  return { bytes: Buffer.from(JSON.stringify(doc, null, 2)), description: what };
}

// A small JSON Schema (2020-12 subset) validator for tests: the keywords our schemas use, and an
// error on any other keyword so a schema can never silently pass something it was meant to check.
type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  '$ref',
  'oneOf',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v);
  return typeOf(v) === t;
}

/** Validate `value` against `root`; returns error messages with JSON paths (empty when valid). */
export function validateJsonSchema(root: Record<string, unknown>, value: unknown): string[] {
  const errors: string[] = [];

  const resolve = (ref: string): Schema => {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let node: unknown = root;
    for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part];
    if (node === undefined) throw new Error(`dangling $ref ${ref}`);
    return node as Schema;
  };

  const check = (schema: Schema, v: unknown, at: string, out: string[]): void => {
    if (schema === true) return;
    if (schema === false) {
      out.push(`${at}: not allowed`);
      return;
    }
    for (const key of Object.keys(schema)) {
      if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new Error(`validator does not support keyword '${key}' (at schema for ${at})`);
    }
    if (typeof schema.$ref === 'string') check(resolve(schema.$ref), v, at, out);
    if ('type' in schema) {
      const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
      if (!types.some((t) => typeMatches(v, t))) {
        out.push(`${at}: expected ${types.join('|')}, got ${typeOf(v)}`);
        return;
      }
    }
    if ('const' in schema && JSON.stringify(v) !== JSON.stringify(schema.const)) out.push(`${at}: expected ${JSON.stringify(schema.const)}`);
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      out.push(`${at}: ${JSON.stringify(v)} not in ${JSON.stringify(schema.enum)}`);
    }
    if (typeof v === 'number') {
      if (typeof schema.minimum === 'number' && v < schema.minimum) out.push(`${at}: ${v} < minimum ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && v > schema.maximum) out.push(`${at}: ${v} > maximum ${schema.maximum}`);
    }
    if (Array.isArray(v)) {
      if (typeof schema.minItems === 'number' && v.length < schema.minItems) out.push(`${at}: ${v.length} items < ${schema.minItems}`);
      if (typeof schema.maxItems === 'number' && v.length > schema.maxItems) out.push(`${at}: ${v.length} items > ${schema.maxItems}`);
      if (schema.items !== undefined) v.forEach((item, i) => check(schema.items as Schema, item, `${at}[${i}]`, out));
    }
    if (typeOf(v) === 'object') {
      const obj = v as Record<string, unknown>;
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) out.push(`${at}: missing '${r}'`);
      for (const [k, val] of Object.entries(obj)) {
        if (k in props) check(props[k]!, val, `${at}.${k}`, out);
        else if (schema.additionalProperties === false) out.push(`${at}: unexpected property '${k}'`);
        else if (typeof schema.additionalProperties === 'object') check(schema.additionalProperties as Schema, val, `${at}.${k}`, out);
      }
    }
    if (Array.isArray(schema.oneOf)) {
      const results = (schema.oneOf as Schema[]).map((s) => {
        const e: string[] = [];
        check(s, v, at, e);
        return e;
      });
      const ok = results.filter((e) => e.length === 0).length;
      if (ok !== 1) {
        // Report the branch that came closest, which is almost always the intended one.
        const closest = results.reduce((a, b) => (b.length < a.length ? b : a));
        out.push(ok === 0 ? `${at}: matches no oneOf branch: ${closest.slice(0, 3).join('; ')}` : `${at}: matches ${ok} oneOf branches`);
      }
    }
  };

  check(root, value, '$', errors);
  return errors;
}

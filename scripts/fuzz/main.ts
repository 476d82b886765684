// npm run fuzz -- --cases N [--seed S] [--only models|images|artifacts|npy] [--case K [--save dir]] [--jobs J]
//                 [--time-cap-ms T] [--wall-cap-ms W] [--max-rss-mb M] [--start I] [--json file]
// Exit status: 0 when every case ended in success or a typed ToolkitError, 1 on any untyped error, hang,
// memory blow-up or crash, 2 on bad usage.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KINDS, makeCase, type Kind } from './cases.js';
import { formatSummary, phaseText, runFuzz } from './harness.js';

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\nusage: npm run fuzz -- --cases N [--seed S] [--only ${KINDS.join('|')}] [--case K] [--jobs J] [--time-cap-ms T] [--wall-cap-ms W] [--max-rss-mb M]\n`);
  process.exit(2);
}

function intOption(v: string | undefined, name: string, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      case: { type: 'string', multiple: true },
      start: { type: 'string' },
      jobs: { type: 'string' },
      'time-cap-ms': { type: 'string' },
      'wall-cap-ms': { type: 'string' },
      'max-rss-mb': { type: 'string' },
      json: { type: 'string' },
      save: { type: 'string' },
    },
    strict: true,
  }).values;
} catch (err) {
  usage((err as Error).message);
}

const only = args.only?.split(',') ?? [...KINDS];
// 'selftest' is accepted for the harness's own test; it is not advertised.
for (const k of only) if (![...KINDS, 'selftest'].includes(k)) usage(`unknown kind '${k}' (expected ${KINDS.join(', ')})`);
const replay = args.case?.map((c) => intOption(c, 'case', 0));
if (!replay && args.cases === undefined) usage('--cases N is required (or --case K to replay one case)');
const opts = {
  cases: intOption(args.cases, 'cases', 0, 1),
  seed: intOption(args.seed, 'seed', 1),
  kinds: only as Kind[],
  only: replay,
  start: intOption(args.start, 'start', 0),
  jobs: intOption(args.jobs, 'jobs', Math.max(1, Math.min(2, os.availableParallelism())), 1),
  timeCapMs: intOption(args['time-cap-ms'], 'time-cap-ms', 10_000, 100),
  wallCapMs: args['wall-cap-ms'] === undefined ? undefined : intOption(args['wall-cap-ms'], 'wall-cap-ms', 0, 100),
  maxRssMb: intOption(args['max-rss-mb'], 'max-rss-mb', 1536, 64),
};

if (args.save) {
  // Replay help: write each replayed case's mutated input, e.g. to run `npm run inspect -- <file>` on it.
  if (!replay) usage('--save needs --case K');
  mkdirSync(args.save, { recursive: true });
  for (const index of replay) {
    const c = await makeCase(opts.seed, index, opts.kinds);
    if (!c.input) continue;
    const file = path.join(args.save, `case-${index}-${c.input.name}`);
    writeFileSync(file, c.input.bytes);
    process.stdout.write(`wrote ${file}\n`);
  }
}

const tty = process.stderr.isTTY;
// SIGINT / SIGTERM end a long run early with the summary of the cases finished so far.
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
const summary = await runFuzz({
  ...opts,
  signal: stop.signal,
  onCase: (r, done, total) => {
    if (replay) {
      process.stdout.write(`case ${r.index} [${r.kind}] ${r.description}\n  -> ${r.outcome}${r.code ? ` ${r.code}` : ''} in ${r.ms.toFixed(0)} ms wall, ${r.cpuMs.toFixed(0)} ms CPU${phaseText(r.phaseCpuMs) ? ` (CPU ms: ${phaseText(r.phaseCpuMs)})` : ''}, RSS ${(r.rssBytes / 2 ** 20).toFixed(0)} MB\n`);
      if (r.message) process.stdout.write(`  ${r.message}\n`);
      if (r.stack) process.stdout.write(`${r.stack}\n`);
    } else if (tty && (done % 10 === 0 || done === total)) {
      process.stderr.write(`\rfuzz: ${done}/${total} cases`);
      if (done === total) process.stderr.write('\n');
    }
  },
});
process.stdout.write(`${formatSummary(summary, opts)}\n`);
if (args.json) {
  writeFileSync(args.json, JSON.stringify({ ...summary, byCode: Object.fromEntries(summary.byCode) }, null, 2));
}
process.exit(summary.failures.length > 0 ? 1 : 0);

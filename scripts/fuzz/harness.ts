// The fuzz harness: a pool of child processes runs the cases of src/../cases.ts, each under a time cap and
// a memory cap, and every outcome is classified: ok, typed (a ToolkitError, by code), or a failure:
// untyped (any other exception), hang (over the time cap), over-memory (over the RSS cap), crash (the
// process died on its own: a native abort, V8's fatal OOM).
//
// Why child processes and not worker_threads (piscina / tinypool's default): a worker's resourceLimits
// bound only its V8 heap, while the memory a hostile input inflates lives outside it: the reader's
// typed arrays (ArrayBuffer backing stores), sharp/libvips buffers and wasm memories. Only the process's
// RSS sees all of it, and only a process can be killed without taking the harness down. tinypool's
// child_process runtime would do the spawning, but it exposes neither the child's pid (for sampling RSS
// while a case runs) nor why a child died (time, memory, crash), which is exactly what is classified
// here, so the pool is these few lines over child_process.fork.
//
// Memory is watched two ways: the parent samples each busy child's VmRSS from /proc every 25 ms and
// kills it over the cap (a runaway allocation), and after each case the child reports its lifetime RSS
// high-water mark (getrusage maxrss), which catches a spike shorter than the sampling period. A child
// over the cap is replaced, so the high-water mark of the next one starts low again.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kind } from './cases.js';
import type { ChildMessage, ChildRequest } from './protocol.js';

export type Outcome = 'ok' | 'typed' | 'untyped' | 'hang' | 'over-memory' | 'crash';
export const FAILURES: readonly Outcome[] = ['untyped', 'hang', 'over-memory', 'crash'];

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  readonly kinds: readonly Kind[];
  /** Run only these case indices (replay with --case K). */
  readonly only?: readonly number[];
  /** First case index (default 0). */
  readonly start?: number;
  readonly jobs: number;
  /** CPU time a case may use (its process, all threads) before it counts as a hang. */
  readonly timeCapMs: number;
  /** Wall time backstop for a case that hangs without using CPU (blocked on I/O); default 10x timeCapMs. */
  readonly wallCapMs?: number;
  readonly maxRssMb: number;
  readonly onCase?: (record: CaseRecord, done: number, total: number) => void;
  /** Stop early (Ctrl-C on a long run): cases running are dropped, the summary covers those finished. */
  readonly signal?: AbortSignal;
}

export interface CaseRecord {
  readonly index: number;
  readonly kind: string;
  readonly description: string;
  readonly outcome: Outcome;
  /** ToolkitError code, or the error class name of an untyped error. */
  readonly code?: string;
  readonly message?: string;
  readonly stackTop?: string;
  readonly stack?: string;
  /** Wall time of the run (the time cap applies to it). */
  readonly ms: number;
  /** CPU time of the run: the work the input caused, independent of how busy the machine is. */
  readonly cpuMs: number;
  /** Where the CPU time went (model cases): { read: 30, emit: 80, preprocess: 2, reference: 400 } (ms). */
  readonly phaseCpuMs?: Readonly<Record<string, number>>;
  readonly rssBytes: number;
}

export interface FuzzSummary {
  readonly total: number;
  /** True when stopped through `signal` before every case ran. */
  readonly interrupted: boolean;
  readonly elapsedMs: number;
  readonly byOutcome: Record<Outcome, number>;
  /** 'kind outcome code' -> count (typed codes and untyped error classes). */
  readonly byCode: Map<string, number>;
  readonly failures: CaseRecord[];
  /** The 5 finished cases with the most CPU time. */
  readonly slowest: CaseRecord[];
  /** Finished cases over 1 s of CPU time. */
  readonly overOneSecond: number;
  /** The largest CPU time of each phase of the model cases (read, emit, preprocess, reference), with its case. */
  readonly slowestPhases: Record<string, { cpuMs: number; index: number }>;
  readonly peakRssBytes: number;
  /** Errors that escaped a case asynchronously (unhandled rejections), with the case running at the time. */
  readonly strays: string[];
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.ts');
const SAMPLE_MS = 25;
const READY_TIMEOUT_MS = 180_000;

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux kernel configuration in use

/** CPU time of a process so far (user + system, all threads) in ms, from /proc; NaN when unavailable. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // not Linux, or the process is gone: the child's own maxRSS report still applies
  }
}

interface Slot {
  child: ChildProcess | null;
  ready: boolean;
  current: { index: number; kind: string; description: string; startedAt: number; cpuAtStart: number } | null;
  dispatchedAt: number;
  killedFor: 'hang' | 'over-memory' | null;
  peakSample: number;
  stderrTail: string;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const started = performance.now();
  const start = opts.start ?? 0;
  const queue = opts.only ? [...opts.only] : Array.from({ length: opts.cases }, (_, k) => start + k);
  const total = queue.length;
  const capBytes = opts.maxRssMb * 1024 * 1024;
  // On a shared machine wall time mostly measures the neighbours: a hang is judged by the case's own CPU
  // time, with a wall-clock backstop for a case blocked without computing.
  const wallCap = opts.wallCapMs ?? 10 * opts.timeCapMs;
  const records: CaseRecord[] = [];
  const strays: string[] = [];
  let peak = 0;

  return new Promise<FuzzSummary>((resolve, reject) => {
    const slots: Slot[] = [];
    let finished = false;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      for (const s of slots) s.child?.kill('SIGKILL');
      const byOutcome = { ok: 0, typed: 0, untyped: 0, hang: 0, 'over-memory': 0, crash: 0 } as Record<Outcome, number>;
      const byCode = new Map<string, number>();
      for (const r of records) {
        byOutcome[r.outcome]++;
        const key = `${r.kind} ${r.outcome}${r.code ? ` ${r.code}` : ''}`;
        byCode.set(key, (byCode.get(key) ?? 0) + 1);
      }
      resolve({
        total: records.length,
        interrupted: records.length < total,
        elapsedMs: performance.now() - started,
        byOutcome,
        byCode: new Map([...byCode.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
        failures: records.filter((r) => FAILURES.includes(r.outcome)).sort((a, b) => a.index - b.index),
        slowest: records.filter((r) => r.outcome === 'ok' || r.outcome === 'typed').sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 5),
        overOneSecond: records.filter((r) => r.cpuMs > 1000).length,
        slowestPhases: slowestPhases(records),
        peakRssBytes: peak,
        strays,
      });
    };

    const record = (r: CaseRecord): void => {
      records.push(r);
      peak = Math.max(peak, r.rssBytes);
      opts.onCase?.(r, records.length, total);
      if (records.length === total) finish();
    };

    const dispatch = (slot: Slot): void => {
      if (finished || !slot.ready || slot.current) return;
      const index = queue.shift();
      if (index === undefined) return;
      slot.current = { index, kind: '?', description: '(generating)', startedAt: performance.now(), cpuAtStart: cpuMsOf(slot.child!.pid!) };
      slot.dispatchedAt = performance.now();
      slot.peakSample = 0;
      const req: ChildRequest = { seed: opts.seed, index, kinds: opts.kinds };
      slot.child!.send(req);
    };

    const spawn = (slot: Slot): void => {
      const child = fork(CHILD, [opts.kinds.join(',')], {
        execArgv: ['--import', 'tsx'],
        // Child stdout carries library chatter (tfjs greets on stdout): dropped. Stderr kept for crash reports.
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      slot.child = child;
      slot.ready = false;
      slot.killedFor = null;
      slot.stderrTail = '';
      slot.dispatchedAt = performance.now();
      child.stderr!.on('data', (d: Buffer) => {
        slot.stderrTail = (slot.stderrTail + d.toString()).slice(-2000);
      });
      child.on('message', (msg: ChildMessage) => {
        if (child !== slot.child) return;
        if (msg.type === 'ready') {
          slot.ready = true;
          dispatch(slot);
        } else if (msg.type === 'start') {
          slot.current = { index: msg.index, kind: msg.kind, description: msg.description, startedAt: performance.now(), cpuAtStart: cpuMsOf(child.pid!) };
        } else if (msg.type === 'stray') {
          strays.push(`case ${slot.current?.index ?? '?'}: ${msg.code}: ${msg.message} (${msg.stackTop})`);
        } else if (msg.type === 'done') {
          const cur = slot.current!;
          slot.current = null;
          const rss = Math.max(msg.maxRssBytes, slot.peakSample);
          const base = { index: msg.index, kind: cur.kind, description: cur.description, ms: msg.ms, cpuMs: msg.cpuMs, phaseCpuMs: msg.phaseCpuMs, rssBytes: rss };
          if (rss > capBytes) {
            // Finished, but went over the cap on the way: a blow-up all the same. Replace the child.
            record({ ...base, outcome: 'over-memory', message: `peak RSS ${mb(rss)} > cap ${opts.maxRssMb} MB` });
            slot.ready = false;
            slot.child = null;
            child.kill('SIGKILL');
            spawn(slot);
            return;
          }
          const r = msg.result;
          record(r.outcome === 'ok' ? { ...base, outcome: 'ok' } : { ...base, ...r });
          dispatch(slot);
        }
      });
      child.on('exit', (code, signal) => {
        if (child !== slot.child || finished) return;
        slot.child = null;
        const cur = slot.current;
        slot.current = null;
        if (!slot.ready && !cur) {
          reject(new Error(`fuzz child failed to start (exit ${code ?? signal}): ${slot.stderrTail.trim().split('\n').slice(-5).join('\n')}`));
          finished = true;
          return;
        }
        if (cur) {
          const ms = performance.now() - cur.startedAt;
          const base = { index: cur.index, kind: cur.kind, description: cur.description, ms, cpuMs: NaN, rssBytes: slot.peakSample };
          const v8oom = /heap out of memory|Array buffer allocation failed/i.test(slot.stderrTail);
          if (slot.killedFor === 'hang') record({ ...base, outcome: 'hang', message: `over ${opts.timeCapMs} ms of CPU time or ${wallCap} ms of wall time` });
          else if (slot.killedFor === 'over-memory' || v8oom) record({ ...base, outcome: 'over-memory', message: v8oom ? 'V8 fatal out of memory' : `RSS over ${opts.maxRssMb} MB` });
          else record({ ...base, outcome: 'crash', message: `process exited (${signal ?? `code ${code}`}): ${slot.stderrTail.trim().split('\n').slice(-3).join(' | ')}` });
        }
        if (!finished && queue.length > 0) spawn(slot);
      });
    };

    const timer = setInterval(() => {
      const now = performance.now();
      for (const slot of slots) {
        const child = slot.child;
        if (!child?.pid) continue;
        if (!slot.ready) {
          if (now - slot.dispatchedAt > READY_TIMEOUT_MS) child.kill('SIGKILL');
          continue;
        }
        if (!slot.current) continue;
        const rss = rssOf(child.pid);
        slot.peakSample = Math.max(slot.peakSample, rss);
        peak = Math.max(peak, rss);
        if (slot.killedFor) continue;
        if (rss > capBytes) {
          slot.killedFor = 'over-memory';
          child.kill('SIGKILL');
        } else if (cpuMsOf(child.pid) - slot.current.cpuAtStart > opts.timeCapMs || now - slot.current.startedAt > wallCap) {
          slot.killedFor = 'hang';
          child.kill('SIGKILL');
        }
      }
    }, SAMPLE_MS);

    opts.signal?.addEventListener('abort', finish, { once: true });
    if (total === 0 || opts.signal?.aborted) return finish();
    for (let k = 0; k < Math.min(opts.jobs, total); k++) {
      const slot: Slot = { child: null, ready: false, current: null, dispatchedAt: 0, killedFor: null, peakSample: 0, stderrTail: '' };
      slots.push(slot);
      spawn(slot);
    }
  });
}

function slowestPhases(records: readonly CaseRecord[]): Record<string, { cpuMs: number; index: number }> {
  const out: Record<string, { cpuMs: number; index: number }> = {};
  for (const r of records) {
    for (const [name, cpuMs] of Object.entries(r.phaseCpuMs ?? {})) {
      if (!(name in out) || cpuMs > out[name]!.cpuMs) out[name] = { cpuMs, index: r.index };
    }
  }
  return out;
}

export function phaseText(phases: Readonly<Record<string, number>> | undefined): string {
  return Object.entries(phases ?? {}).map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ');
}

export function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MB`;
}

/** The report printed by `npm run fuzz`: counts per outcome and code, failures, slowest cases, peak RSS. */
export function formatSummary(s: FuzzSummary, opts: Pick<FuzzOptions, 'seed' | 'kinds' | 'timeCapMs' | 'maxRssMb'>): string {
  const lines = [
    `fuzz: ${s.total} cases${s.interrupted ? ' (interrupted)' : ''}, seed ${opts.seed}, ${(s.elapsedMs / 1000).toFixed(1)} s (${(s.total / (s.elapsedMs / 1000)).toFixed(1)} cases/s); caps ${opts.timeCapMs} ms CPU, ${opts.maxRssMb} MB RSS`,
    `outcomes: ${Object.entries(s.byOutcome).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    'per kind, outcome and code:',
    ...[...s.byCode.entries()].map(([k, v]) => `  ${String(v).padStart(6)}  ${k}`),
    `peak RSS of a case process: ${mb(s.peakRssBytes)}`,
    `cases over 1 s of CPU time: ${s.overOneSecond}`,
    `slowest cases by CPU time (replay: npm run fuzz -- --seed ${opts.seed} --only ${opts.kinds.join(',')} --case K):`,
    ...s.slowest.map((r) => `  ${r.cpuMs.toFixed(0).padStart(6)} ms CPU (${r.ms.toFixed(0)} ms wall)  case ${r.index} [${r.kind}] ${r.description} -> ${r.outcome}${r.code ? ` ${r.code}` : ''}${phaseText(r.phaseCpuMs) ? ` (CPU ms: ${phaseText(r.phaseCpuMs)})` : ''}`),
    `largest CPU time per phase of a model case: ${Object.entries(s.slowestPhases).map(([name, p]) => `${name} ${p.cpuMs.toFixed(0)} ms (case ${p.index})`).join(', ') || 'none'}`,
  ];
  if (s.strays.length) lines.push(`unhandled rejections: ${s.strays.length}`, ...s.strays.slice(0, 20).map((x) => `  ${x}`));
  if (s.failures.length) {
    lines.push(`FAILURES: ${s.failures.length}`);
    for (const f of s.failures.slice(0, 50)) {
      lines.push(`  case ${f.index} [${f.kind}] ${f.outcome}${f.code ? ` ${f.code}` : ''}: ${f.description}`);
      if (f.message) lines.push(`      ${f.message.slice(0, 300)}`);
      if (f.stackTop) lines.push(`      ${f.stackTop}`);
    }
  } else lines.push('no untyped errors, hangs, blow-ups or crashes');
  return lines.join('\n');
}

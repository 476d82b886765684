// A pool process: receives case indices over IPC, builds each case itself (no megabytes over the pipe),
// runs it and reports the outcome. Says 'start' before running so a case that hangs or is killed for
// memory is still known by its description.
import { ToolkitError } from '../../src/errors.js';
import { cpuNowMs, makeCase, phases, warmUp, type Kind } from './cases.js';
import type { CaseResult, ChildRequest, ChildMessage } from './protocol.js';

function send(msg: ChildMessage): void {
  process.send!(msg);
}

/** First stack line inside the project (or the first frame), for grouping untyped errors. */
function stackTop(err: Error): string {
  const frames = (err.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at '));
  const own = frames.find((l) => /\/(src|scripts)\//.test(l) && !l.includes('/scripts/fuzz/'));
  return (own ?? frames[0] ?? '').trim();
}

async function handle(req: ChildRequest): Promise<void> {
  const c = await makeCase(req.seed, req.index, req.kinds as Kind[]);
  send({ type: 'start', index: req.index, kind: c.kind, description: c.description });
  phases.length = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let result: CaseResult;
  try {
    await c.run();
    result = { outcome: 'ok' };
  } catch (err) {
    if (err instanceof ToolkitError) result = { outcome: 'typed', code: err.code, message: err.message };
    else {
      const e = err instanceof Error ? err : new Error(String(err));
      result = { outcome: 'untyped', code: e.name, message: e.message, stackTop: stackTop(e), stack: e.stack };
    }
  }
  const ms = performance.now() - started;
  // CPU time (all threads: libvips' too) measures the work itself; wall time also counts waiting for a busy machine.
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const marks = [...phases, { name: 'end', at: cpuNowMs() }];
  const phaseCpuMs = Object.fromEntries(marks.slice(0, -1).map((p, k) => [p.name, marks[k + 1]!.at - p.at]));
  // maxRSS is the process's high-water mark (KiB): the parent compares it with the cap after each case.
  send({ type: 'done', index: req.index, ms, cpuMs, phaseCpuMs, maxRssBytes: process.resourceUsage().maxRSS * 1024, result });
}

process.on('message', (req: ChildRequest) => {
  handle(req).catch((err: unknown) => {
    // Case generation itself failed: a harness bug, reported as untyped so it is never silent.
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'done', index: req.index, ms: 0, cpuMs: 0, maxRssBytes: 0, result: { outcome: 'untyped', code: e.name, message: `harness: ${e.message}`, stackTop: stackTop(e), stack: e.stack } });
  });
});
// The harness went away (killed, crashed): never outlive it.
process.on('disconnect', () => process.exit(0));
// Errors that escape a case asynchronously (a rejected promise nobody awaited) are still the case's fault.
process.on('unhandledRejection', (err) => {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ type: 'stray', code: e.name, message: e.message, stackTop: stackTop(e) });
});
await warmUp((process.argv[2] ?? '').split(',') as Kind[]);
send({ type: 'ready' });

// The fuzz harness (scripts/fuzz, `npm run fuzz`): a small seeded run over every kind of hostile input
// must end every case in success or a typed ToolkitError, and the harness must be able to fail: its own
// selftest cases (an untyped error, an endless loop, a runaway allocation) are classified as failures.
import { describe, expect, it } from 'vitest';
import { formatSummary, runFuzz } from '../scripts/fuzz/harness.js';
import { KINDS, makeCase } from '../scripts/fuzz/cases.js';

describe('fuzz harness', () => {
  it('classifies an untyped error, a hang and a memory blow-up as failures, and typed errors as fine', async () => {
    // Selftest case k does ['ok', 'typed', 'untyped', 'hang', 'blowup'][k % 5].
    const summary = await runFuzz({ cases: 5, seed: 1, kinds: ['selftest'], jobs: 2, timeCapMs: 1000, wallCapMs: 30_000, maxRssMb: 400 });
    const byIndex = new Map(summary.failures.map((f) => [f.index, f]));
    expect(summary.byOutcome).toMatchObject({ ok: 1, typed: 1, untyped: 1, hang: 1, 'over-memory': 1, crash: 0 });
    expect(byIndex.get(2)).toMatchObject({ outcome: 'untyped', code: 'TypeError', message: 'an untyped error' });
    expect(byIndex.get(3)).toMatchObject({ outcome: 'hang', description: 'selftest: hang' });
    expect(byIndex.get(4)).toMatchObject({ outcome: 'over-memory', description: 'selftest: blowup' });
    expect(summary.byCode.get('selftest typed SELFTEST_TYPED')).toBe(1);
    expect(formatSummary(summary, { seed: 1, kinds: ['selftest'], timeCapMs: 1000, maxRssMb: 400 })).toContain('FAILURES: 3');
  });

  it('generates the same case from the same seed and index (replayable), different ones otherwise', async () => {
    for (const kind of KINDS) {
      const a = await makeCase(5, 17, [kind]);
      const b = await makeCase(5, 17, [kind]);
      const c = await makeCase(6, 17, [kind]);
      expect(a.description).toBe(b.description);
      expect(a.description).not.toBe(c.description);
    }
  });

  it('a few hundred mutated models, images, artifacts and .npy files end in success or a typed error', async () => {
    const summary = await runFuzz({ cases: 200, seed: 20261203, kinds: KINDS, jobs: 2, timeCapMs: 10_000, maxRssMb: 1536 });
    const report = formatSummary(summary, { seed: 20261203, kinds: KINDS, timeCapMs: 10_000, maxRssMb: 1536 });
    expect(summary.total).toBe(200);
    expect(summary.failures, report).toEqual([]);
    expect(summary.strays, report).toEqual([]);
    // Each kind ran, and most mutations are refused with a code (the mutators do reach the checks).
    for (const kind of KINDS) expect([...summary.byCode.keys()].some((k) => k.startsWith(`${kind} typed`)), `${kind}\n${report}`).toBe(true);
  }, 120_000);
});

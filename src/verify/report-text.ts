// Plain-text and Markdown renderings of a ParityReport: the summary table `verify` prints, and
// report.md (a grid a reviewer reads in a minute, then the worst figures).
import { fmt, fmtTol } from './compare.js';
import type { BackendReport, BackendRun, DecodedOnnxReport, Int8Report, ParityReport, PresetReport } from './report-types.js';

export function verdictOf(b: Pick<BackendReport, 'status'>): 'PASS' | 'FAIL' | 'ERROR' | 'n/a' {
  return b.status === 'pass' ? 'PASS' : b.status === 'fail' ? 'FAIL' : b.status === 'error' ? 'ERROR' : 'n/a';
}

export function errText(x: number | null): string {
  return x === null ? 'non-finite' : fmt(x);
}

export function whereText(b: BackendRun): string {
  const at = b.worst.at ? `[0, ${b.worst.at.anchor}, ${b.worst.at.coord}]` : '';
  return `${b.worst.input} / ${b.worst.tensor}${at}`;
}

/** Backends in the order of the first preset that lists them (the registry order). */
export function backendColumns(report: ParityReport): string[] {
  const names: string[] = [];
  for (const p of report.presets) for (const b of p.backends) if (!names.includes(b.backend)) names.push(b.backend);
  return names;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** Browser rows that miss the raw tolerance still say whether the decoded faces agree. */
function facesVerdict(b: BackendRun): string {
  if (b.detectionsAgree === undefined || b.status === 'pass') return '';
  return b.detectionsAgree ? ' faces agree' : ' faces differ';
}

function facesText(p: PresetReport): string {
  return p.reference ? p.reference.detections.map((d) => d.length).join('/') : '-';
}

/** The table `verify` ends with on stdout: one row per preset/backend, then the verdict. */
/** The model_decoded.onnx check as a summary-table row (its columns: coords/scores in 'det coord/score'). */
function decodedRow(preset: string, d: DecodedOnnxReport): string[] {
  const where = d.worst ? `${d.worst.input} / ${d.worst.output}[0, ${d.worst.anchor}${d.worst.output === 'scores' ? '' : `, ${d.worst.coord}`}]` : '';
  const diffs = d.status === 'pass' || d.status === 'fail' ? `${errText(d.maxCoordDiff)}/${errText(d.maxScoreDiff)}` : '';
  return [preset, 'decoded onnx', verdictOf(d), '', where, diffs, '', d.reason ?? 'model_decoded.onnx vs the TS decode of model.onnx'];
}

/** The int8 verdict's figures in one phrase: worst corner (% of face), worst score diff, speed-up. */
export function int8Text(r: Int8Report): string {
  const corner = r.worstCornerPct === null ? 'no face matched' : `corners ${fmt(r.worstCornerPct)} % of face (<= ${r.tolerances.cornerPctOfFace} %)`;
  const score = r.worstScoreDiff === null ? '' : `, scores ${fmt(r.worstScoreDiff)} (<= ${r.tolerances.score})`;
  const speed = r.timing ? `; ${fmt(r.timing.speedup)}x the fp32 speed (N=${r.timing.batch})` : '';
  return `${corner}${score} on ${r.judgedOn.join(', ')}${speed}`;
}

/** The model_int8.onnx verdict as a summary-table row. */
function int8Row(preset: string, r: Int8Report): string[] {
  const figures = r.status === 'pass' || r.status === 'fail' ? int8Text(r) : (r.reason ?? '');
  return [preset, 'int8 onnx', verdictOf(r), '', '', '', r.timing ? fmt(r.timing.int8MsPerRun) : '', figures];
}

export function summaryTable(report: ParityReport, maxFailures = 10): string {
  const rows: string[][] = [];
  for (const p of report.presets) {
    if (p.reference) {
      rows.push([p.preset, 'reference', 'oracle', '', '', '', fmt(p.reference.timing.msPerRun), `faces ${facesText(p)}`]);
    } else {
      rows.push([p.preset, 'reference', 'ERROR', '', '', '', '', p.error ?? '']);
    }
    for (const b of p.backends) {
      if (b.status === 'pass' || b.status === 'fail') {
        rows.push([
          p.preset,
          b.backend,
          verdictOf(b),
          errText(b.worst.maxErr),
          whereText(b),
          `${fmt(b.worstDetection.maxCoordDiff)}/${fmt(b.worstDetection.maxScoreDiff)}${b.worstDetection.countMismatches ? ` (${b.worstDetection.countMismatches} count)` : ''}${facesVerdict(b)}`,
          fmt(b.timing.msPerRun),
          b.version,
        ]);
      } else if (b.status === 'error') {
        rows.push([p.preset, b.backend, 'ERROR', '', '', '', '', `${b.stage}: ${b.error.split('\n')[0]!.slice(0, 160)}`]);
      } else if (b.status === 'unavailable') {
        rows.push([p.preset, b.backend, 'n/a', '', '', '', '', b.reason]);
      }
    }
    if (p.decodedOnnx) rows.push(decodedRow(p.preset, p.decodedOnnx));
    if (p.int8) rows.push(int8Row(p.preset, p.int8));
  }
  const n = report.inputs.length;
  const warned = report.presets.filter((p) => p.artifactWarning).map((p) => `${p.preset}: ${p.artifactWarning}`);
  const lines = table(['preset', 'backend', 'verdict', 'max_err', 'worst at', 'det coord/score', `ms/run(N=${n})`, 'runtime / notes'], rows);
  const s = report.summary;
  lines.push('');
  lines.push(
    `${s.pass ? 'PASS' : 'FAIL'}: ${s.passed} passed, ${s.failed} failed, ${s.unavailable} unavailable ` +
      `(raw max_err <= ${fmtTol(report.tolerances.rawMaxErr)}, detection coords/scores within ${fmtTol(report.tolerances.detectionCoord)}/${fmtTol(report.tolerances.detectionScore)})`,
  );
  for (const f of s.failures.slice(0, maxFailures)) lines.push(`  ${f}`);
  for (const w of warned) lines.push(`  warning: ${w}`);
  if (s.failures.length > maxFailures) lines.push(`  ... ${s.failures.length - maxFailures} more in report.json`);
  return lines.join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.map(mdEscape).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`)];
}

function gridCell(b: BackendReport | undefined): string {
  if (!b) return '';
  switch (b.status) {
    case 'pass':
      return `✅ ${errText(b.worst.maxErr)}`;
    case 'fail':
      return `❌ ${errText(b.worst.maxErr)}`;
    case 'error':
      return '❌ error';
    case 'unavailable':
      return '— n/a';
  }
}

/** report.md: verdict grid, worst figures, detections per input, unavailable backends, failures. */
export function markdownReport(report: ParityReport, maxFailures = 30): string {
  const cols = backendColumns(report);
  const t = report.tolerances;
  const out: string[] = [];
  out.push(`# Parity report: ${report.summary.pass ? '✅ PASS' : '❌ FAIL'}`);
  out.push('');
  out.push(
    `${report.tool.name} ${report.tool.version}. Every backend against the float64 reference, all ${report.inputs.length} inputs in one batch. ` +
      `Pass: raw max_err = max |got-ref|/(1+|ref|) <= ${fmtTol(t.rawMaxErr)}; decoded faces (threshold of the preset, weighted NMS 'blend') equal in number, ` +
      `coordinates within ${fmtTol(t.detectionCoord)}, scores within ${fmtTol(t.detectionScore)}.`,
  );
  out.push('');
  out.push(`${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.unavailable} unavailable.`);
  out.push('');
  if (report.browser) {
    const b = report.browser;
    out.push(`Browser rows (\`browser:*\`): ${b.name} ${b.version}, headless; WebGL renderer: ${b.webglRenderer ?? 'none'}; timings measured inside the page.`);
    out.push('');
  }
  out.push('## Verdicts (worst raw max_err)');
  out.push('');
  out.push(
    ...mdTable(
      ['preset', ...cols],
      report.presets.map((p) => [p.error ? `${p.preset} ❌` : p.preset, ...cols.map((c) => gridCell(p.backends.find((b) => b.backend === c)))]),
    ),
  );
  out.push('');
  out.push('## Worst figures');
  out.push('');
  const rows: string[][] = [];
  for (const p of report.presets) {
    for (const b of p.backends) {
      if (b.status !== 'pass' && b.status !== 'fail') continue;
      const maxRel = Math.max(0, ...b.inputs.flatMap((r) => [r.regressors.maxRel ?? Infinity, r.classificators.maxRel ?? Infinity]));
      rows.push([
        p.preset,
        b.backend,
        verdictOf(b),
        errText(b.worst.maxErr),
        whereText(b),
        errText(b.worst.maxAbs),
        fmt(maxRel),
        fmt(b.worstDetection.maxCoordDiff),
        fmt(b.worstDetection.maxScoreDiff),
        String(b.worstDetection.countMismatches),
        fmt(b.timing.msPerRun),
        b.version,
        b.notes.join('; '),
      ]);
    }
  }
  out.push(
    ...mdTable(
      ['preset', 'backend', 'verdict', 'max_err', 'where', 'max_abs', 'max_rel', 'det coord', 'det score', 'count mismatches', 'ms/run', 'runtime', 'notes'],
      rows,
    ),
  );
  out.push('');
  const decoded = report.presets.filter((p) => p.decodedOnnx);
  if (decoded.length > 0) {
    out.push('## model_decoded.onnx against the TypeScript decode');
    out.push('');
    out.push(
      ...mdTable(
        ['preset', 'verdict', 'max coord diff', 'max score diff', 'worst at', 'negative-size anchors', 'compared with'],
        decoded.map((p) => {
          const row = decodedRow(p.preset, p.decodedOnnx!);
          const d = p.decodedOnnx!;
          return [p.preset, row[2]!, errText(d.maxCoordDiff), errText(d.maxScoreDiff), row[4]!, String(d.negativeSizeAnchors), d.reason ?? d.comparedWith];
        }),
      ),
    );
    out.push('');
  }
  const int8 = report.presets.filter((p) => p.int8);
  if (int8.length > 0) {
    out.push('## model_int8.onnx at the face level (seed photos)');
    out.push('');
    out.push(
      ...mdTable(
        ['preset', 'verdict', 'worst corner, % of face', 'worst score diff', 'faces ref/int8', 'int8 ms/run', 'fp32 ms/run', 'x fp32 speed', 'notes'],
        int8.map((p) => {
          const r = p.int8!;
          const t = r.timing;
          const where = r.worst ? `${r.worst.input} face ${r.worst.face} ${r.worst.corner}` : '';
          return [
            p.preset,
            verdictOf(r),
            r.worstCornerPct === null ? '-' : `${fmt(r.worstCornerPct)} (<= ${r.tolerances.cornerPctOfFace})`,
            r.worstScoreDiff === null ? '-' : `${fmt(r.worstScoreDiff)} (<= ${r.tolerances.score})`,
            r.faces.map((f) => `${f.ref}/${f.got}`).join(' '),
            t ? fmt(t.int8MsPerRun) : '-',
            t ? fmt(t.fp32MsPerRun) : '-',
            t ? fmt(t.speedup) : '-',
            r.reason ?? where,
          ];
        }),
      ),
    );
    out.push('');
  }
  out.push('## Faces found by the reference');
  out.push('');
  const photoInputs = report.inputs;
  out.push(
    ...mdTable(
      ['preset', ...photoInputs.map((i) => i.name)],
      report.presets.map((p) => [p.preset, ...photoInputs.map((i) => (p.reference ? String(p.reference.detections[i.index]?.length ?? 0) : '-'))]),
    ),
  );
  const warnings = report.presets.filter((p) => p.artifactWarning);
  if (warnings.length > 0) {
    out.push('');
    out.push('## Artifact warnings');
    out.push('');
    for (const p of warnings) out.push(`- ${p.preset}: ${p.artifactWarning}`);
  }
  const unavailable = report.presets.flatMap((p) => p.backends.filter((b) => b.status === 'unavailable').map((b) => ({ p, b })));
  if (unavailable.length > 0) {
    out.push('');
    out.push('## Unavailable backends');
    out.push('');
    const seen = new Set<string>();
    for (const { b } of unavailable) {
      if (b.status !== 'unavailable') continue;
      const line = `- ${b.backend}: ${b.reason}`;
      if (!seen.has(line)) out.push(line);
      seen.add(line);
    }
  }
  out.push('');
  out.push('## Inputs');
  out.push('');
  for (const i of report.inputs) out.push(`- \`${i.name}\` (${i.kind}): ${i.origin}`);
  if (report.summary.failures.length > 0) {
    out.push('');
    out.push('## Failures');
    out.push('');
    out.push('```');
    out.push(...report.summary.failures.slice(0, maxFailures));
    if (report.summary.failures.length > maxFailures) out.push(`... ${report.summary.failures.length - maxFailures} more in report.json`);
    out.push('```');
  }
  out.push('');
  return out.join('\n');
}

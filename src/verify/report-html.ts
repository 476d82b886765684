// report.html: one self-contained page. Each input image is inlined once as a data: URI (a CSS
// class), and every backend's faces are drawn over it as inline SVG: boxes, the six keypoints and
// scores, all backends side by side as in the seed's Inference notebook, with verdicts and numbers.
import sharp from 'sharp';
import { KEYPOINT_STYLE } from '../detect/face.js';
import type { RgbImage } from '../image/pixels.js';
import { fmt, fmtTol } from './compare.js';
import type { BackendReport, BackendRun, DetectionRecord, InputResult, ParityReport, PresetReport } from './report-types.js';
import { backendColumns, errText, int8Text, verdictOf, whereText } from './report-text.js';

const KEYPOINTS = KEYPOINT_STYLE.map((k) => ({ name: k.label, colour: k.colour }));

/** Display size of one overlay cell (px). */
const CELL = 150;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Fixed-precision coordinates keep the page small and byte-stable. */
function c(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1e4) / 1e4) : '0';
}

/**
 * Photos are inlined as lossless PNG (what the model saw); random inputs as JPEG, because noise does not
 * compress and they are only there to show that no backend invents faces (the numbers are in the tables).
 */
async function imageDataUri(img: RgbImage, lossless: boolean): Promise<string> {
  const pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (lossless) return `data:image/png;base64,${(await pipeline.png({ compressionLevel: 9 }).toBuffer()).toString('base64')}`;
  return `data:image/jpeg;base64,${(await pipeline.jpeg({ quality: 70 }).toBuffer()).toString('base64')}`;
}

/** SVG in normalized model coordinates (viewBox 0..1); strokes stay in screen pixels. */
function overlaySvg(cls: string, faces: readonly DetectionRecord[], title: string): string {
  const parts: string[] = [];
  for (const f of faces) {
    const [ymin, xmin, ymax, xmax] = f.box;
    parts.push(`<rect x="${c(xmin)}" y="${c(ymin)}" width="${c(xmax - xmin)}" height="${c(ymax - ymin)}" class="box"/>`);
    f.keypoints.forEach(([x, y], k) => {
      parts.push(`<circle cx="${c(x)}" cy="${c(y)}" r="0.017" fill="${KEYPOINTS[k]?.colour ?? '#fff'}" class="kp"/>`);
    });
    parts.push(`<text x="${c(xmin)}" y="${c(Math.max(ymin - 0.01, 0.05))}" class="score">${f.score.toFixed(3)}</text>`);
  }
  return `<svg class="shot ${cls}" viewBox="0 0 1 1" preserveAspectRatio="none" width="${CELL}" height="${CELL}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${parts.join('')}</svg>`;
}

function badge(status: string): string {
  const cls = status === 'PASS' || status === 'oracle' ? 'ok' : status === 'n/a' ? 'na' : 'bad';
  return `<span class="badge ${cls}">${esc(status)}</span>`;
}

function errCell(x: number | null, tol: number): string {
  const cls = x !== null && x <= tol ? 'ok' : 'bad';
  return `<td class="num ${cls}">${esc(errText(x))}</td>`;
}

function verdictGrid(report: ParityReport): string {
  const cols = backendColumns(report);
  const head = `<tr><th>preset</th><th>reference</th>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const rows = report.presets.map((p) => {
    const ref = p.reference ? `<td class="cell ok">oracle<br><small>${esc(fmt(p.reference.timing.msPerRun))} ms</small></td>` : `<td class="cell bad">error</td>`;
    const cells = cols.map((name) => {
      const b = p.backends.find((x) => x.backend === name);
      if (!b) return '<td></td>';
      if (b.status === 'unavailable') return `<td class="cell na" title="${esc(b.reason)}">n/a</td>`;
      if (b.status === 'error') return `<td class="cell bad" title="${esc(b.error)}">ERROR<br><small>${esc(b.stage)}</small></td>`;
      return `<td class="cell ${b.status === 'pass' ? 'ok' : 'bad'}">${verdictOf(b)}<br><small>${esc(errText(b.worst.maxErr))} · ${esc(fmt(b.timing.msPerRun))} ms</small></td>`;
    });
    return `<tr><th><a href="#${esc(p.preset)}">${esc(p.preset)}</a>${p.error ? ' ❌' : ''}</th>${ref}${cells.join('')}</tr>`;
  });
  return `<table class="grid">${head}${rows.join('')}</table>`;
}

function backendTable(p: PresetReport, report: ParityReport): string {
  const tol = report.tolerances;
  const head =
    '<tr><th>backend</th><th>verdict</th><th>max_err</th><th>where</th><th>max_abs</th><th>det coord</th><th>det score</th><th>faces</th><th>ms/run</th><th>ms/image</th><th>runtime</th><th>notes</th></tr>';
  const rows: string[] = [];
  if (p.reference) {
    const r = p.reference;
    rows.push(
      `<tr><td>reference</td><td>${badge('oracle')}</td><td></td><td></td><td></td><td></td><td></td><td class="num">${r.detections.map((d) => d.length).reduce((a, b) => a + b, 0)}</td>` +
        `<td class="num">${fmt(r.timing.msPerRun)}</td><td class="num">${fmt(r.timing.msPerImage)}</td><td>${esc(r.version)}</td><td>${esc(r.notes.join('; '))}</td></tr>`,
    );
  }
  for (const b of p.backends) {
    if (b.status === 'unavailable') {
      rows.push(`<tr class="dim"><td>${esc(b.backend)}</td><td>${badge('n/a')}</td><td colspan="10">${esc(b.reason)}</td></tr>`);
    } else if (b.status === 'error') {
      rows.push(`<tr><td>${esc(b.backend)}</td><td>${badge('ERROR')}</td><td colspan="10" class="bad">${esc(b.stage)}: ${esc(b.error)}</td></tr>`);
    } else {
      const faces = b.detections.map((d) => d.length).reduce((a, x) => a + x, 0);
      rows.push(
        `<tr><td>${esc(b.backend)}</td><td>${badge(verdictOf(b))}</td>${errCell(b.worst.maxErr, tol.rawMaxErr)}<td class="where">${esc(whereText(b))}</td>` +
          `<td class="num">${esc(errText(b.worst.maxAbs))}</td>${errCell(b.worstDetection.maxCoordDiff, tol.detectionCoord)}${errCell(b.worstDetection.maxScoreDiff, tol.detectionScore)}` +
          `<td class="num${b.worstDetection.countMismatches ? ' bad' : ''}">${faces}</td><td class="num">${fmt(b.timing.msPerRun)}</td><td class="num">${fmt(b.timing.msPerImage)}</td>` +
          `<td>${esc(b.version)}<br><small>runs ${esc(b.runs)}</small></td><td>${esc(b.notes.join('; '))}</td></tr>`,
      );
    }
  }
  if (p.int8) {
    // model_int8.onnx: judged at the face level (src/verify/int8.ts), not by the raw tolerance.
    const r = p.int8;
    const text = r.status === 'pass' || r.status === 'fail' ? int8Text(r) : (r.reason ?? '');
    rows.push(`<tr${r.status === 'unavailable' ? ' class="dim"' : ''}><td>int8 onnx</td><td>${badge(verdictOf(r))}</td><td colspan="10"${r.status === 'fail' || r.status === 'error' ? ' class="bad"' : ''}>${esc(text)}</td></tr>`);
  }
  return `<table class="backends">${head}${rows.join('')}</table>`;
}

function ran(p: PresetReport): BackendRun[] {
  return p.backends.filter((b): b is BackendRun => b.status === 'pass' || b.status === 'fail');
}

function gallery(p: PresetReport, report: ParityReport, pi: number, indices: readonly number[]): string {
  const runs = ran(p);
  const head = `<tr><th></th><th>reference</th>${runs.map((b) => `<th>${esc(b.backend)}</th>`).join('')}</tr>`;
  const rows = indices.map((ii) => {
    const input = report.inputs[ii]!;
    const cls = `img-${pi}-${ii}`;
    const refFaces = p.reference?.detections[ii] ?? [];
    const cells = [
      `<td class="ref"><figure>${overlaySvg(cls, refFaces, `${p.preset} / reference / ${input.name}`)}<figcaption>${refFaces.length} face${refFaces.length === 1 ? '' : 's'}</figcaption></figure></td>`,
    ];
    for (const b of runs) {
      const faces = b.detections[ii] ?? [];
      const r: InputResult | undefined = b.inputs[ii];
      const ok = r?.pass ?? false;
      const err = r ? Math.max(r.regressors.maxErr ?? Infinity, r.classificators.maxErr ?? Infinity) : Infinity;
      cells.push(
        `<td class="${ok ? 'ok' : 'bad'}"><figure>${overlaySvg(cls, faces, `${p.preset} / ${b.backend} / ${input.name}`)}` +
          `<figcaption>${ok ? '✔' : '✘'} ${faces.length} · ${esc(Number.isFinite(err) ? fmt(err) : 'non-finite')}</figcaption></figure></td>`,
      );
    }
    return `<tr><th class="rowhead">${esc(input.name)}</th>${cells.join('')}</tr>`;
  });
  return `<table class="gallery">${head}${rows.join('')}</table>`;
}

function perInputTable(p: PresetReport, report: ParityReport): string {
  const runs = ran(p);
  if (runs.length === 0) return '';
  const head = `<tr><th>input</th>${runs.map((b) => `<th>${esc(b.backend)}</th>`).join('')}</tr>`;
  const rows = report.inputs.map((input) => {
    const cells = runs.map((b) => {
      const r = b.inputs[input.index];
      if (!r) return '<td></td>';
      const err = r.regressors.maxErr === null || r.classificators.maxErr === null ? null : Math.max(r.regressors.maxErr, r.classificators.maxErr);
      const det = r.detections ? ` · ${r.detections.gotCount}/${r.detections.refCount}` : '';
      return `<td class="num ${r.pass ? 'ok' : 'bad'}">${esc(errText(err))}${det}</td>`;
    });
    return `<tr><td>${esc(input.name)}</td>${cells.join('')}</tr>`;
  });
  return `<table class="perinput">${head}${rows.join('')}</table>`;
}

function failureList(p: PresetReport, max = 40): string {
  const lines = [...(p.error ? [`${p.preset}: ${p.error}`] : []), ...p.backends.flatMap((b) => (b.status === 'fail' || b.status === 'error' ? b.failures : []))];
  if (lines.length === 0) return '';
  const shown = lines.slice(0, max).map(esc).join('\n');
  const more = lines.length > max ? `\n… ${lines.length - max} more in report.json` : '';
  return `<h3>Failures</h3><pre class="failures">${shown}${more}</pre>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 7px;border:1px solid #e1e1e1;text-align:left;vertical-align:top}
th{background:#f0f0f2;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{background:#e7f8ec}.bad{background:#fde8e8;color:#9b1c1c}.na{background:#f2f2f2;color:#888}.dim td{color:#888}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-weight:700;font-size:12px;color:#fff}.badge.ok{background:#1f9d55}.badge.bad{background:#d92d20}.badge.na{background:#999}
.verdict{font-size:18px;font-weight:700;padding:2px 12px;border-radius:12px;color:#fff}.verdict.ok{background:#1f9d55}.verdict.bad{background:#d92d20}
.grid td.cell{text-align:center;min-width:92px;font-weight:700}.grid small{font-weight:400;color:#444}
.gallery td{padding:3px;background:#fff}.gallery td.ok{border:2px solid #1f9d55}.gallery td.bad{border:2px solid #d92d20}.gallery td.ref{border:2px solid #666}
.gallery th{text-align:center;font-size:12px}.gallery th.rowhead{text-align:right;vertical-align:middle;font-size:12px;max-width:110px;word-break:break-all}
figure{margin:0}figcaption{font-size:11px;text-align:center;color:#333;font-variant-numeric:tabular-nums}
svg.shot{display:block;background-size:100% 100%;image-rendering:auto}
svg .box{fill:none;stroke:#00e5ff;stroke-width:2px;vector-effect:non-scaling-stroke}
svg .kp{stroke:#000;stroke-width:0.5px;vector-effect:non-scaling-stroke}
svg .score{font:0.06px sans-serif;fill:#00e5ff;paint-order:stroke;stroke:#000;stroke-width:0.012px}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;border:1px solid #000;vertical-align:-1px}
.where{font-family:ui-monospace,monospace;font-size:12px}pre.failures{background:#fff5f5;border:1px solid #f3c2c2;padding:8px;white-space:pre-wrap;font-size:12px}
.meta{color:#555}.warn{background:#fff8e1;border:1px solid #f0d48a;padding:4px 8px}details{margin:8px 0}summary{cursor:pointer;font-weight:600}
`;

/** Build report.html. `images` holds, per preset, each input's pixels at the preset's input size. */
export async function htmlReport(report: ParityReport, images: ReadonlyMap<string, readonly RgbImage[]>): Promise<string> {
  const t = report.tolerances;
  const imageCss: string[] = [];
  for (const [pi, p] of report.presets.entries()) {
    const imgs = images.get(p.preset) ?? [];
    for (const [ii, img] of imgs.entries()) {
      const lossless = report.inputs[ii]?.kind !== 'random';
      imageCss.push(`.img-${pi}-${ii}{background-image:url(${await imageDataUri(img, lossless)})}`);
    }
  }
  const photos = report.inputs.filter((i) => i.kind !== 'random').map((i) => i.index);
  const randoms = report.inputs.filter((i) => i.kind === 'random').map((i) => i.index);
  const legend = `<p class="legend">${KEYPOINTS.map((k) => `<span><i style="background:${k.colour}"></i>${k.name}</span>`).join('')}<span>(the person's right/left)</span></p>`;
  const sections = report.presets.map((p, pi) => {
    const faces = p.reference ? p.reference.detections.map((d, i) => `${report.inputs[i]?.name}: ${d.length}`).join(', ') : '';
    return [
      `<section id="${esc(p.preset)}"><h2>${esc(p.preset)} ${badge(p.pass ? 'PASS' : 'FAIL')}</h2>`,
      `<p class="meta">${esc(p.description)}. Input ${p.inputWidth}x${p.inputHeight}, ${p.numAnchors} anchors, model <code>${esc(p.model.fileName)}</code> sha256 <code>${esc(p.model.sha256.slice(0, 16))}…</code>. ` +
        `Decode: min score ${p.decode.minScoreThresh}, weighted NMS '${esc(p.decode.nms)}' IoU &gt; ${p.decode.minSuppressionThreshold}.</p>`,
      p.error ? `<p class="bad">${esc(p.error)}</p>` : '',
      p.artifactWarning ? `<p class="warn">⚠ ${esc(p.artifactWarning)}</p>` : '',
      backendTable(p, report),
      `<h3>Detections</h3>`,
      legend,
      photos.length > 0 ? gallery(p, report, pi, photos) : '',
      randoms.length > 0 ? `<details><summary>Random inputs (${randoms.length})</summary>${gallery(p, report, pi, randoms)}</details>` : '',
      faces ? `<p class="meta">Faces found by the reference: ${esc(faces)}.</p>` : '',
      `<details><summary>max_err per input (· faces backend/reference)</summary>${perInputTable(p, report)}</details>`,
      failureList(p),
      '</section>',
    ].join('\n');
  });
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BlazeFace parity report: ${s.pass ? 'PASS' : 'FAIL'}</title>
<style>${CSS}
${imageCss.join('\n')}</style></head>
<body>
<h1>BlazeFace parity report <span class="verdict ${s.pass ? 'ok' : 'bad'}">${s.pass ? 'PASS' : 'FAIL'}</span></h1>
<p class="meta">${esc(report.tool.name)} ${esc(report.tool.version)} · every backend against the float64 reference · ${report.inputs.length} inputs in one batch ·
${s.passed} passed, ${s.failed} failed, ${s.unavailable} unavailable.<br>
Pass: raw max_err = max |got − ref| / (1 + |ref|) ≤ ${fmtTol(t.rawMaxErr)}; decoded faces equal in number, coordinates within ${fmtTol(t.detectionCoord)}, scores within ${fmtTol(t.detectionScore)}.</p>
<h2>Verdicts</h2>
${verdictGrid(report)}
${sections.join('\n')}
</body></html>
`;
}

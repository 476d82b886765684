// Writes the three parity reports atomically (temporary file + rename): report.json, report.md, report.html.
import path from 'node:path';
import { REPO_ROOT } from '../fixtures.js';
import { writeFileAtomic } from '../util/fs.js';
import { htmlReport } from './report-html.js';
import { markdownReport } from './report-text.js';
import type { ParityReport } from './report-types.js';
import type { VerifyResult } from './verify.js';

export const DEFAULT_PARITY_DIR = path.join(REPO_ROOT, 'artifacts', 'parity');

/** report.json text: two-space indentation, keys in construction order, trailing newline. */
export function reportJson(report: ParityReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function writeReports(result: VerifyResult, outDir = DEFAULT_PARITY_DIR): Promise<{ json: string; md: string; html: string }> {
  const files = { json: path.join(outDir, 'report.json'), md: path.join(outDir, 'report.md'), html: path.join(outDir, 'report.html') };
  // Build everything first so a rendering error leaves the previous reports untouched.
  const html = await htmlReport(result.report, result.images);
  const md = markdownReport(result.report);
  const json = reportJson(result.report);
  await writeFileAtomic(files.json, json);
  await writeFileAtomic(files.md, md);
  await writeFileAtomic(files.html, html);
  return files;
}

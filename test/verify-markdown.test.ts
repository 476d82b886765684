// report.md tables stay tables whatever the input names hold (a '|' in a header cell adds a column).
import { describe, expect, it } from 'vitest';
import { markdownReport } from '../src/verify/report-text.js';
import type { ParityReport } from '../src/verify/report-types.js';

const report: ParityReport = {
  schemaVersion: 1,
  tool: { name: 'blazeface-toolkit', version: '0' },
  tolerances: { rawMaxErr: 1e-4, detectionCoord: 1e-5, detectionScore: 1e-5 },
  inputs: [{ index: 0, name: 'left|right.png', kind: 'seed-photo', origin: 'test' }],
  presets: [
    {
      preset: 'short_range',
      description: 'test',
      inputWidth: 128,
      inputHeight: 128,
      numAnchors: 896,
      model: { fileName: 'm.tflite', sha256: '0' },
      decode: { minScoreThresh: 0.5, nms: 'blend', minSuppressionThreshold: 0.3 },
      reference: null,
      error: 'test',
      artifactWarning: null,
      backends: [],
      decodedOnnx: null,
      pass: false,
    },
  ],
  summary: { pass: false, passed: 0, failed: 0, unavailable: 0, failures: [] },
};

describe('markdownReport', () => {
  it('escapes | in header cells as in body cells', () => {
    const lines = markdownReport(report).split('\n');
    const header = lines.findIndex((l) => l.startsWith('| preset | left'));
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    expect(header).toBeGreaterThan(0);
    expect(cells(lines[header]!)).toBe(cells(lines[header + 1]!));
    expect(cells(lines[header]!)).toBe(cells(lines[header + 2]!));
  });
});

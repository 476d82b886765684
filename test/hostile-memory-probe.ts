// Run by test/hostile-memory.test.ts in a fresh process: the peak resident memory added by detecting
// faces in one large image (mode 'detect'), or by `blazeface detect --out` on it (mode 'out').
// Prints one JSON line: {pixels, peakBytes, bytesPerPixel}.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/commands/detect.js';
import { createDetector } from '../src/detect/detector.js';
import { decodeRgb } from '../src/image/pixels.js';

// On Linux the peak is reset to the current RSS first (clear_refs 5), so an earlier, higher peak cannot
// hide part of this one; elsewhere the process's lifetime peak is used.
const status = (key: string): number => Number(/(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(key))!)![1]) * 1024;
function resetPeak(): number {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return status('VmRSS:');
  } catch {
    return process.resourceUsage().maxRSS * 1024;
  }
}
function peak(): number {
  try {
    return status('VmHWM:');
  } catch {
    return process.resourceUsage().maxRSS * 1024;
  }
}

const [file, mode, warmup, preprocess = 'exact'] = process.argv.slice(2) as [string, 'detect' | 'out', string, ('exact' | 'fast')?];
const { width, height } = await decodeRgb(warmup); // loads the decoders before the baseline
const big = (await import('sharp')).default;
const meta = await big(file).metadata();
const pixels = meta.width! * meta.height!;
const out = await mkdtemp(path.join(os.tmpdir(), 'memory-probe-'));
const quiet = console.log;
try {
  const detector = await createDetector({ backend: 'reference', preprocess });
  await detector.detect(warmup);
  console.log = () => undefined;
  await run([warmup, '--backend', 'reference', '--out', path.join(out, 'warm')]);
  globalThis.gc?.();
  const before = resetPeak();
  if (mode === 'detect') await detector.detect(file);
  else if ((await run([file, '--backend', 'reference', '--out', path.join(out, 'big')])) !== 0) throw new Error('detect --out failed');
  const peakBytes = peak() - before;
  console.log = quiet;
  console.log(JSON.stringify({ pixels, warmup: [width, height], peakBytes, bytesPerPixel: peakBytes / pixels }));
  await detector.dispose();
} finally {
  console.log = quiet;
  await rm(out, { recursive: true, force: true });
}

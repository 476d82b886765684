// `blazeface detect <images...>`: faces per image as text or JSON lines, optionally annotated PNGs.
import { parseArgs } from 'node:util';
import { isBackendName } from '../../backends/index.js';
import { BACKEND_NAMES } from '../../backends/backend.js';
import { createDetector, type BatchEntry, type Detector } from '../../detect/detector.js';
import { drawDetectionsOriented } from '../../detect/draw.js';
import { planOutputs, writeOutput, type OutputPlan } from '../../detect/output-paths.js';
import type { Face } from '../../detect/face.js';
import { NMS_FLAVOURS, type NmsFlavour } from '../../detect/non-max-suppression.js';
import { OutputPathError, ToolkitError } from '../../errors.js';
import { decodeRgb, type DecodedRgb } from '../../image/pixels.js';
import { PRESETS } from '../../presets/index.js';
import type { PresetName } from '../../presets/types.js';

export const summary = 'detect faces in images (JSON lines with --json, annotated PNGs with --out)';

const USAGE = `usage: blazeface detect <images...> [options]

  --preset <name>        ${Object.keys(PRESETS).join(' | ')} (default short_range)
  --backend <name>       ${BACKEND_NAMES.join(' | ')} (default onnxruntime-node)
  --min-score <0..1>     score threshold (default: the preset's)
  --iou <0..1>           NMS IoU threshold (default: the preset's, 0.3)
  --nms <flavour>        ${NMS_FLAVOURS.join(' | ')} (default blend, the seed's)
  --max-faces <n>        at most n faces per image
  --model-file <file>    the .tflite (required for the front and back presets)
  --artifacts <dir>      artifacts root (default the package's artifacts/)
  --max-pixels <n>       refuse images above n pixels, from the header (default 100000000)
  --json                 one JSON record per image on stdout
  --out <dir>            write <name>.png per image with boxes and keypoints drawn; equal names
                         get -2, -3... in input order (a/x.jpg, b/x.jpg -> x.png, x-2.png)
  --overwrite            replace existing outputs (never an input image)

Images: PNG, JPEG, WebP, AVIF, TIFF, GIF (first frame), recognised by their bytes; SVG, PDF,
HEIC and anything else are refused (INPUT_FORMAT_UNSUPPORTED), as are paths that are not
regular files (INPUT_NOT_FOUND, INPUT_NOT_A_FILE).

Exit status: 0 all images processed, 1 some image failed (or its output could not be written),
2 usage error, or an --out that cannot be used: not a directory on a real filesystem, an output
that exists without --overwrite, or would replace an input (checked before any detection).`;

class UsageError extends Error {}

function num(name: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name}: not a${integer ? 'n integer' : ' number'}: '${value}'`);
  return n;
}

function faceRecord(face: Face): Record<string, unknown> {
  return { box: face.box, keypoints: face.keypoints, score: face.score, detection: face.toArray() };
}

function entryRecord(entry: BatchEntry): Record<string, unknown> {
  if (entry.ok) return { image: entry.input, width: entry.width, height: entry.height, faces: entry.faces.map(faceRecord) };
  const code = entry.error instanceof ToolkitError ? entry.error.code : 'ERROR';
  return { image: entry.input, error: { code, message: entry.error.message } };
}

function describe(entry: BatchEntry): string {
  if (!entry.ok) {
    const code = entry.error instanceof ToolkitError ? ` [${entry.error.code}]` : '';
    return `${entry.input}: error${code}: ${entry.error.message}`;
  }
  const lines = [`${entry.input} (${entry.width}x${entry.height}): ${entry.faces.length} face${entry.faces.length === 1 ? '' : 's'}`];
  const f = (v: number) => v.toFixed(1);
  entry.faces.forEach((face, i) => {
    const { xMin, yMin, xMax, yMax } = face.box;
    const kp = Object.entries(face.keypoints).map(([k, p]) => `${k} (${f(p.x)}, ${f(p.y)})`);
    lines.push(`  #${i + 1} score ${face.score.toFixed(4)} box (${f(xMin)}, ${f(yMin)})-(${f(xMax)}, ${f(yMax)})`);
    lines.push(`     ${kp.join(', ')}`);
  });
  return lines.join('\n');
}

/**
 * --out: one image at a time, decoded once. The stored pixels (EXIF orientation not applied) go to the
 * detector as a raw image with their orientation, then the faces are drawn into those same pixels and
 * sharp turns them while encoding: one full-size copy per photo, instead of one for detection and
 * another (plus a turned one) for drawing.
 */
async function detectAndDraw(detector: Detector, plan: OutputPlan, i: number, image: string, maxInputPixels?: number): Promise<{ entry: BatchEntry; written?: string }> {
  let stored: DecodedRgb;
  try {
    stored = await decodeRgb(image, image, { maxInputPixels, orientation: 'defer' });
  } catch (err) {
    if (!(err instanceof ToolkitError)) throw err;
    return { entry: { ok: false, input: image, error: err } };
  }
  const [entry] = await detector.detectBatch([{ data: stored.data, width: stored.width, height: stored.height, orientation: stored.orientation, label: image }]);
  if (!entry!.ok) return { entry: entry! };
  try {
    return { entry: entry!, written: await writeOutput(plan, i, await drawDetectionsOriented(stored, stored.orientation, entry!.faces)) };
  } catch (err) {
    if (!(err instanceof ToolkitError)) throw err;
    return { entry: { ok: false, input: image, error: err } };
  }
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        preset: { type: 'string', default: 'short_range' },
        backend: { type: 'string', default: 'onnxruntime-node' },
        'min-score': { type: 'string' },
        iou: { type: 'string' },
        nms: { type: 'string', default: 'blend' },
        'max-faces': { type: 'string' },
        'model-file': { type: 'string' },
        artifacts: { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        'max-pixels': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let options;
  try {
    if (positionals.length === 0) throw new UsageError('no images given');
    if (!(values.preset in PRESETS)) throw new UsageError(`--preset: unknown preset '${values.preset}'`);
    if (!isBackendName(values.backend)) throw new UsageError(`--backend: unknown backend '${values.backend}'`);
    if (!(NMS_FLAVOURS as readonly string[]).includes(values.nms)) throw new UsageError(`--nms: expected ${NMS_FLAVOURS.join(' or ')}, got '${values.nms}'`);
    const minScore = num('min-score', values['min-score']);
    const iouThreshold = num('iou', values.iou);
    const maxFaces = num('max-faces', values['max-faces'], true);
    if (minScore !== undefined && !(minScore >= 0 && minScore <= 1)) throw new UsageError('--min-score must be in [0, 1]');
    if (iouThreshold !== undefined && !(iouThreshold >= 0 && iouThreshold <= 1)) throw new UsageError('--iou must be in [0, 1]');
    if (maxFaces !== undefined && maxFaces < 1) throw new UsageError('--max-faces must be at least 1');
    const maxInputPixels = num('max-pixels', values['max-pixels'], true);
    if (maxInputPixels !== undefined && !(maxInputPixels >= 1 && Number.isSafeInteger(maxInputPixels))) throw new UsageError('--max-pixels must be a positive integer');
    options = {
      preset: values.preset as PresetName,
      backend: values.backend,
      nms: values.nms as NmsFlavour,
      minScore,
      iouThreshold,
      maxFaces,
      modelFile: values['model-file'],
      artifactsRoot: values.artifacts,
      maxInputPixels,
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }

  let outputs: OutputPlan | null = null;
  if (values.out) {
    try {
      outputs = await planOutputs(values.out, positionals, { overwrite: values.overwrite });
    } catch (err) {
      if (!(err instanceof OutputPathError)) throw err;
      console.error(`blazeface detect: ${err.code}: ${err.message}`);
      return 2;
    }
  }

  const detector = await createDetector(options);
  try {
    let failed = false;
    const report = (entry: BatchEntry, written?: string): void => {
      failed ||= !entry.ok;
      console.log(values.json ? JSON.stringify(entryRecord(entry)) : describe(entry));
      if (written && !values.json) console.log(`  wrote ${written}`);
    };
    if (outputs) {
      for (const [i, image] of positionals.entries()) {
        const { entry, written } = await detectAndDraw(detector, outputs, i, image, options.maxInputPixels);
        report(entry, written);
      }
    } else {
      for (const entry of await detector.detectBatch(positionals)) report(entry);
    }
    return failed ? 1 : 0;
  } finally {
    await detector.dispose();
  }
}

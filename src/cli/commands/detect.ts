// `blazeface detect <images...>`: faces per image as text or JSON lines, optionally annotated PNGs.
import { BACKEND_NAMES } from '../../backends/backend.js';
import { createDetector, type BatchEntry, type Detector, type DetectorOptions } from '../../detect/detector.js';
import { drawDetectionsOriented } from '../../detect/draw.js';
import { planOutputs, writeOutput, type OutputPlan } from '../../detect/output-paths.js';
import type { Face } from '../../detect/face.js';
import { NMS_FLAVOURS } from '../../detect/non-max-suppression.js';
import { OutputPathError, ToolkitError } from '../../errors.js';
import { decodeRgb, type DecodedRgb } from '../../image/pixels.js';
import { PRESETS } from '../../presets/index.js';
import { checkTiling, parseTiling, type TilingOption } from '../../detect/tiling.js';
import { choiceOption, EXIT, numberOption, parseCommand, pathOption, presetNames, UsageError } from '../args.js';

export const summary = 'detect faces in images (JSON lines with --json, annotated PNGs with --out)';

const USAGE = `usage: blazeface detect <images...> [options]

  --preset <name>        ${Object.keys(PRESETS).join(' | ')} (default full_range)
                         full_range finds faces up to about 5 m away, small in the frame: ordinary photos.
                         short_range (128x128, faster) suits selfies and webcams, faces within about 2 m
                         that fill a good part of the image; it misses small faces.
  --backend <name>       auto | ${BACKEND_NAMES.join(' | ')} (default auto: onnxruntime-node when
                         installed, else onnxruntime-web, else reference)
  --min-score <0..1>     score threshold (default: the preset's)
  --iou <0..1>           NMS IoU threshold (default: the preset's, 0.3)
  --nms <flavour>        ${NMS_FLAVOURS.join(' | ')} (default: the preset's; mediapipe for MediaPipe's models, blend for front/back)
  --max-faces <n>        at most n faces per image, the highest scores (faces are listed by score, descending)
  --model-file <file>    the .tflite (required for the front and back presets)
  --artifacts <dir>      artifacts root (default the package's artifacts/)
  --max-pixels <n>       refuse images above n pixels, from the header (default 100000000)
  --tiles <auto|RxC[:o]> also detect in tiles of the full-size image, for small faces in large photos
                         (auto: grid from the image and model size; e.g. 2x3:0.25); each tile is one more model run
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

function faceRecord(face: Face): Record<string, unknown> {
  return { box: face.box, keypoints: face.keypoints, score: face.score, rollDegrees: face.rollDegrees, detection: face.toArray() };
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

function tilesOption(text: string): TilingOption {
  const tiling = parseTiling(text);
  if (tiling === null) throw new UsageError(`--tiles: expected auto or RxC[:overlap] (e.g. 2x3:0.25), got '${text}'`);
  try {
    checkTiling(tiling, '--tiles');
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  return tiling;
}

export async function run(argv: string[]): Promise<number> {
  let options: DetectorOptions;
  let parsed;
  try {
    parsed = parseCommand(
      argv,
      USAGE,
      {
        preset: { type: 'string', default: 'full_range' },
        backend: { type: 'string', default: 'auto' },
        'min-score': { type: 'string' },
        iou: { type: 'string' },
        nms: { type: 'string' },
        'max-faces': { type: 'string' },
        'model-file': { type: 'string' },
        artifacts: { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        'max-pixels': { type: 'string' },
        tiles: { type: 'string' },
      },
      true,
    );
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    if (positionals.length === 0) throw new UsageError('no images given');
    const [preset] = presetNames('--preset', [values.preset]);
    if (preset === undefined || values.preset.includes(',')) throw new UsageError(`--preset: expected one preset, got '${values.preset}'`);
    const backend = choiceOption('--backend', values.backend, ['auto', ...BACKEND_NAMES] as const);
    options = {
      preset,
      backend,
      nms: values.nms === undefined ? undefined : choiceOption('--nms', values.nms, NMS_FLAVOURS),
      minScore: numberOption('--min-score', values['min-score'], { min: 0, max: 1 }),
      iouThreshold: numberOption('--iou', values.iou, { min: 0, max: 1 }),
      maxFaces: numberOption('--max-faces', values['max-faces'], { min: 1, integer: true }),
      modelFile: pathOption('--model-file', values['model-file']),
      artifactsRoot: pathOption('--artifacts', values.artifacts),
      maxInputPixels: numberOption('--max-pixels', values['max-pixels'], { min: 1, integer: true }),
      tiling: values.tiles === undefined ? undefined : tilesOption(values.tiles),
    };
    pathOption('--out', values.out);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;

  let outputs: OutputPlan | null = null;
  if (values.out) {
    try {
      outputs = await planOutputs(values.out, positionals, { overwrite: values.overwrite });
    } catch (err) {
      if (!(err instanceof OutputPathError)) throw err;
      console.error(`blazeface detect: ${err.code}: ${err.message}`);
      return EXIT.usage;
    }
  }

  const detector = await createDetector(options);
  if (options.backend === 'auto' && detector.backend.name !== 'onnxruntime-node') {
    console.error(`note: onnxruntime-node is not installed; running on ${detector.backend.name} (slower). npm install onnxruntime-node for the fast backend.`);
  }
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

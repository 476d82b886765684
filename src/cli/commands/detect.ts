// `blazeface detect <images...>`: faces per image as text or JSON lines, optionally annotated PNGs.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES } from '../../backends/backend.js';
import { createDetector, type BatchEntry, type DetectorOptions } from '../../detect/detector.js';
import { drawDetections } from '../../detect/draw.js';
import type { Face } from '../../detect/face.js';
import { NMS_FLAVOURS } from '../../detect/non-max-suppression.js';
import { ToolkitError } from '../../errors.js';
import { decodeRgb } from '../../image/pixels.js';
import { PRESETS } from '../../presets/index.js';
import { writeFileAtomic } from '../../util/fs.js';
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
  --json                 one JSON record per image on stdout
  --out <dir>            write <name>.png with boxes and keypoints drawn

Exit status: 0 all images processed, 1 some image failed, 2 usage error.`;

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

/** Output file names: the image's base name, made unique when two inputs share it. */
function outputNames(images: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return images.map((img) => {
    const base = path.basename(img, path.extname(img));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? `${base}.png` : `${base}-${n + 1}.png`;
  });
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
    };
    pathOption('--out', values.out);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;

  const detector = await createDetector(options);
  if (options.backend === 'auto' && detector.backend.name !== 'onnxruntime-node') {
    console.error(`note: onnxruntime-node is not installed; running on ${detector.backend.name} (slower). npm install onnxruntime-node for the fast backend.`);
  }
  try {
    const entries = await detector.detectBatch(positionals);
    const names = outputNames(positionals);
    for (const [i, entry] of entries.entries()) {
      console.log(values.json ? JSON.stringify(entryRecord(entry)) : describe(entry));
      if (values.out && entry.ok) {
        // Draw on the decoded original (EXIF-rotated), whose pixels the face coordinates refer to.
        const rgb = await decodeRgb(positionals[i]!);
        const file = path.join(values.out, names[i]!);
        await writeFileAtomic(file, await drawDetections(rgb, entry.faces));
        if (!values.json) console.log(`  wrote ${file}`);
      }
    }
    return entries.every((e) => e.ok) ? 0 : 1;
  } finally {
    await detector.dispose();
  }
}

// `blazeface detect <images, folders, globs...>`: faces per image, streamed as each image finishes, as
// text, JSON lines, CSV or COCO JSON (stdout or --output), with a worker pool (--jobs), --resume and
// --shard for big corpora, annotated images (--out) and aligned face crops (--crops).
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { BACKEND_NAMES } from '../../backends/backend.js';
import { resolveBackendName } from '../../backends/index.js';
import { detectMany, type ManyTask, type TaskExtras } from '../../detect/detect-many.js';
import type { DetectorOptions } from '../../detect/detector.js';
import { enumerateImages, shardOf, type FoundImage } from '../../detect/enumerate.js';
import { checkOutputDir, outputNames, planOutputs } from '../../detect/output-paths.js';
import { NMS_FLAVOURS } from '../../detect/non-max-suppression.js';
import { OutputPathError } from '../../errors.js';
import { PRESETS } from '../../presets/index.js';
import { checkTiling, parseTiling, type TilingOption } from '../../detect/tiling.js';
import { choiceOption, EXIT, numberOption, parseCommand, pathOption, presetNames, UsageError } from '../args.js';
import { createSink, FORMATS, imagesAlreadyDone, type Format, type Sink } from '../detect-output.js';

export const summary = 'detect faces in images, folders and globs (text, JSON lines, CSV, COCO; crops, annotated images)';

const USAGE = `usage: blazeface detect <images | folders | 'globs'...> [options]

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
  --format <f>           text | jsonl | csv | coco (default text on stdout, jsonl with --output)
                         csv: one row per face (an image without faces or with an error: one row);
                         coco: COCO detection JSON with the six keypoints, written at the end
  --json                 the same as --format jsonl
  -o, --output <file>    write the records to <file> instead of stdout (refused if it exists,
                         unless --resume or --overwrite)
  --resume               skip the images already in --output (jsonl or csv) and append the rest
  --shard <i>/<n>        only the images whose relative path hashes to shard i of n (0 <= i < n):
                         run n jobs with i = 0..n-1 (GNU parallel, a Kubernetes Indexed Job...)
  --jobs <n>             worker threads, each with its own model session (default: the core
                         count, ${os.availableParallelism()} here; 0 for a single image file); 0 runs in
                         the main thread
  --unordered            print each image as it finishes instead of in input order
  --chunk-size <n>       images in flight or waiting for their turn, at most (default 4 per job):
                         the memory bound
  --out <dir>            write <name>.png per image with boxes, scores, keypoints and a legend drawn;
                         equal names get -2, -3... in input order (a/x.jpg, b/x.jpg -> x.png, x-2.png)
  --out-format <f>       png | jpeg for --out (default png)
  --crops <dir>          one aligned face crop per face, <name>-face<k>.jpg (k by score): upright by
                         the eye line, MediaPipe's face ROI (1.5 x the box's long side, square), 256 px
  --overwrite            replace existing outputs (never an input image)

Inputs: files; folders, walked recursively in name order for .jpg .jpeg .png .webp .avif .tif .tiff
.gif; quoted globs such as 'photos/**/*.jpg'. Images are read lazily, so any number fits in memory
(--out and --crops keep the list of names, about 100 bytes per image, to plan unique names).
Images: PNG, JPEG, WebP, AVIF, TIFF, GIF (first frame), recognised by their bytes; SVG, PDF,
HEIC and anything else are refused (INPUT_FORMAT_UNSUPPORTED), as are paths that are not
regular files (INPUT_NOT_FOUND, INPUT_NOT_A_FILE).
A progress line (done/total, images/s, ETA) goes to stderr when it is a terminal.

Exit status: 0 all images processed, 1 some image failed (or its output could not be written),
2 usage error, or an --out/--crops/--output that cannot be used: not a directory on a real
filesystem, an output that exists without --overwrite, or would replace an input (checked before
any detection).`;


/** `i/n` with 0 <= i < n. */
function shardOption(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]), count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard: expected i/n with 0 <= i < n, got '${value}'`);
  return { index, count };
}

/** The images of the arguments with --shard and --resume applied, lazily. */
async function* selectedImages(args: readonly string[], shard: { index: number; count: number } | undefined, done: ReadonlySet<string>): AsyncGenerator<FoundImage> {
  for await (const img of enumerateImages(args)) {
    if (shard && shardOf(img.relative, shard.count) !== shard.index) continue;
    if (done.has(img.path)) continue;
    yield img;
  }
}

/** Progress on stderr when it is a terminal: done/total (total filled in by a counting pass), images/s, ETA. */
function startProgress(count: () => AsyncIterable<unknown>): { tick(): void; stop(): void } {
  if (!process.stderr.isTTY) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'detect {bar} {value}/{total} images | {speed} images/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  let done = 0;
  let stopped = false;
  bar.start(0, 0, { speed: '0.0' });
  void (async () => {
    let n = 0;
    for await (const _ of count()) {
      if (stopped) return;
      n++;
      if (n % 1000 === 0) bar.setTotal(n);
    }
    if (!stopped) bar.setTotal(n);
  })().catch(() => undefined);
  return {
    tick() {
      done++;
      bar.update(done, { speed: (done / Math.max(1e-3, (Date.now() - t0) / 1000)).toFixed(1) });
    },
    stop() {
      stopped = true;
      bar.stop();
    },
  };
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  return !!x && !!y && x.dev === y.dev && x.ino === y.ino;
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
  let format: Format;
  let shard: { index: number; count: number } | undefined;
  let jobs: number;
  let chunk: number | undefined;
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
        format: { type: 'string' },
        output: { type: 'string', short: 'o' },
        resume: { type: 'boolean', default: false },
        shard: { type: 'string' },
        jobs: { type: 'string' },
        unordered: { type: 'boolean', default: false },
        'chunk-size': { type: 'string' },
        out: { type: 'string' },
        'out-format': { type: 'string', default: 'png' },
        crops: { type: 'string' },
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
    pathOption('--crops', values.crops);
    pathOption('--output', values.output);
    choiceOption('--out-format', values['out-format'], ['png', 'jpeg'] as const);
    if (values.format !== undefined && values.json && values.format !== 'jsonl') throw new UsageError(`--json and --format ${values.format} disagree`);
    format = values.format !== undefined ? choiceOption('--format', values.format, FORMATS) : values.json || values.output ? 'jsonl' : 'text';
    shard = shardOption(values.shard);
    jobs = numberOption('--jobs', values.jobs, { min: 0, integer: true }) ?? -1;
    chunk = numberOption('--chunk-size', values['chunk-size'], { min: 1, integer: true });
    if (values.resume && !values.output) throw new UsageError('--resume needs --output FILE (the file whose images are skipped)');
    if (values.resume && format !== 'jsonl' && format !== 'csv') throw new UsageError(`--resume works with --format jsonl or csv, not ${format}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  // Default: a worker per core; one image file alone runs in this thread (a pool would only add start-up).
  if (jobs < 0) jobs = positionals.length === 1 && (await stat(positionals[0]!).catch(() => null))?.isFile() ? 0 : os.availableParallelism();
  const outFormat = values['out-format'] as 'png' | 'jpeg';

  // Every output check that can be made before detecting: a bad --output/--out/--crops fails up front.
  let done: Set<string> = new Set();
  let names: { annotated?: readonly string[]; crops?: readonly string[] } = {};
  try {
    if (values.output) {
      const st = await stat(values.output).catch(() => null);
      for (const p of positionals) {
        if (await sameFile(p, values.output)) throw new OutputPathError('OUTPUT_IS_INPUT', `--output ${values.output}: is one of the input images`, { file: values.output });
      }
      if (st && !st.isFile()) throw new OutputPathError('OUTPUT_NOT_WRITABLE', `--output ${values.output}: exists and is not a regular file`, { file: values.output });
      if (st && !values.resume && !values.overwrite) {
        throw new OutputPathError('OUTPUT_EXISTS', `--output ${values.output}: already exists (pass --resume to continue it or --overwrite to replace it)`, { file: values.output });
      }
      await checkOutputDir(path.dirname(path.resolve(values.output)), '--output');
      if (values.resume) done = await imagesAlreadyDone(values.output, format as 'jsonl' | 'csv');
    }
    if (values.out || values.crops) {
      // Unique names need every input's base name up front (a/x.jpg and b/x.jpg): only the names are kept.
      const list: string[] = [];
      for await (const img of selectedImages(positionals, shard, done)) list.push(img.path);
      if (values.out) names.annotated = (await planOutputs(values.out, list, { overwrite: values.overwrite, ext: outFormat === 'jpeg' ? '.jpg' : '.png' })).files;
      if (values.crops) {
        await checkOutputDir(values.crops, '--crops');
        names.crops = outputNames(values.crops, list, '').map((stem) => stem);
      }
    }
  } catch (err) {
    if (!(err instanceof OutputPathError)) throw err;
    console.error(`blazeface detect: ${err.code}: ${err.message}`);
    return EXIT.usage;
  }

  if (options.backend === 'auto' && resolveBackendName('auto') !== 'onnxruntime-node') {
    console.error(`note: onnxruntime-node is not installed; running on ${resolveBackendName('auto')} (slower). npm install onnxruntime-node for the fast backend.`);
  }

  async function* tasks(): AsyncGenerator<ManyTask> {
    let i = 0;
    for await (const img of selectedImages(positionals, shard, done)) {
      const annotated = names.annotated?.[i];
      const crops = names.crops?.[i];
      i++;
      const extras: TaskExtras | undefined =
        annotated || crops
          ? { overwrite: values.overwrite, inputIds: [], ...(annotated ? { annotated: { file: annotated, format: outFormat } } : {}), ...(crops ? { crops: { stem: crops } } : {}) }
          : undefined;
      yield { input: img.path, label: img.path, extras };
    }
  }

  let sink: Sink | undefined;
  const progress = startProgress(() => selectedImages(positionals, shard, done));
  let failed = false;
  // `detect dir | head`: the reader went away; stop quietly instead of dying on an unhandled EPIPE.
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    progress.stop();
    process.exit(failed ? EXIT.failure : EXIT.ok);
  };
  process.stdout.on('error', onStdoutError);
  try {
    sink = await createSink(format, values.output, values.resume);
    for await (const entry of detectMany(tasks(), { ...options, concurrency: jobs, ordered: !values.unordered, window: chunk })) {
      failed ||= !entry.ok;
      // With a machine format on stdout, errors also go to stderr so they are seen.
      if (!entry.ok && format !== 'text') console.error(`${entry.input}: error [${(entry.error as { code?: string }).code ?? 'ERROR'}]: ${entry.error.message}`);
      await sink.write(entry);
      if (format === 'text') for (const w of entry.written ?? []) console.log(`  wrote ${w}`);
      progress.tick();
    }
    await sink.end();
    sink = undefined;
    return failed ? EXIT.failure : EXIT.ok;
  } finally {
    process.stdout.off('error', onStdoutError);
    progress.stop();
    await sink?.abort();
  }
}

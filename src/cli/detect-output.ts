// Where `blazeface detect` writes its records, one image at a time as results arrive: text or JSON lines
// or CSV on stdout or to --output FILE (appended to with --resume), or one COCO detection JSON built
// from two temporary files (images, annotations) and joined at the end, so memory holds one image's
// records at a time whatever the number of images.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import type { BatchEntry } from '../detect/detector.js';
import { KEYPOINT_NAMES, KEYPOINT_STYLE, type Face } from '../detect/face.js';
import { OutputPathError, ToolkitError } from '../errors.js';

export const FORMATS = ['text', 'jsonl', 'csv', 'coco'] as const;
export type Format = (typeof FORMATS)[number];

export interface Sink {
  write(entry: BatchEntry): Promise<void>;
  /** Flush and close; for COCO, assemble the file. */
  end(): Promise<void>;
  /** Remove what an interrupted COCO run left (its temporary files). */
  abort(): Promise<void>;
}

function errorCode(err: Error): string {
  return err instanceof ToolkitError ? err.code : 'ERROR';
}

export function faceRecord(face: Face): Record<string, unknown> {
  return { box: face.box, keypoints: face.keypoints, score: face.score, rollDegrees: face.rollDegrees, detection: face.toArray() };
}

export function jsonRecord(entry: BatchEntry): Record<string, unknown> {
  if (entry.ok) return { image: entry.input, width: entry.width, height: entry.height, faces: entry.faces.map(faceRecord) };
  return { image: entry.input, error: { code: errorCode(entry.error), message: entry.error.message } };
}

export function describe(entry: BatchEntry): string {
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

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const CSV_HEADER = [
  'image', 'width', 'height', 'face', 'score', 'x_min', 'y_min', 'x_max', 'y_max',
  ...KEYPOINT_NAMES.flatMap((k) => [`${snake(k)}_x`, `${snake(k)}_y`]),
  'roll_degrees', 'error_code', 'error_message',
];

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV rows of one image: one per face (face = 1, 2, ...), or one with an empty face for none or an error. */
export function csvRows(entry: BatchEntry): string[] {
  const empty = CSV_HEADER.length - 4;
  if (!entry.ok) return [[entry.input, '', '', '', ...Array<string>(empty - 2).fill(''), errorCode(entry.error), entry.error.message].map(csvField).join(',')];
  if (entry.faces.length === 0) return [[entry.input, entry.width, entry.height, '', ...Array<string>(empty).fill('')].map(csvField).join(',')];
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return entry.faces.map((f, i) =>
    [
      entry.input, entry.width, entry.height, i + 1, r(f.score), r(f.box.xMin), r(f.box.yMin), r(f.box.xMax), r(f.box.yMax),
      ...KEYPOINT_NAMES.flatMap((k) => [r(f.keypoints[k].x), r(f.keypoints[k].y)]),
      r(f.rollDegrees), '', '',
    ].map(csvField).join(','),
  );
}

/** First field of a CSV line (quoted or not). */
function firstCsvField(line: string): string {
  if (!line.startsWith('"')) return line.split(',', 1)[0]!;
  let out = '';
  for (let i = 1; i < line.length; i++) {
    if (line[i] === '"') {
      if (line[i + 1] === '"') {
        out += '"';
        i++;
      } else break;
    } else out += line[i];
  }
  return out;
}

/**
 * --resume: the images already in an output file (JSON lines or CSV). A last line cut short by a killed
 * run is dropped from the file, so appending continues on a line boundary and that image runs again.
 */
export async function imagesAlreadyDone(file: string, format: 'jsonl' | 'csv'): Promise<Set<string>> {
  const done = new Set<string>();
  const st = await stat(file).catch(() => null);
  if (!st) return done;
  if (!st.isFile()) throw new OutputPathError('OUTPUT_NOT_WRITABLE', `--output ${file}: is not a regular file`, { file });
  let complete = 0; // bytes up to the end of the last complete line
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let first = true;
  for await (const line of lines) {
    if (format === 'csv') {
      if (!(first && line.startsWith('image,'))) done.add(firstCsvField(line));
    } else {
      try {
        const image = (JSON.parse(line) as { image?: unknown }).image;
        if (typeof image === 'string') done.add(image);
      } catch {
        break; // a half-written last line
      }
    }
    first = false;
    complete += Buffer.byteLength(line) + 1;
  }
  // The cut line (no newline, or not JSON) goes; a complete last line without its newline gets one.
  if (complete < st.size) await truncate(file, complete);
  else if (complete > st.size) await appendFile(file, '\n');
  return done;
}

class LineSink implements Sink {
  constructor(
    private readonly out: WriteStream | null,
    private readonly lines: (e: BatchEntry) => string[],
  ) {}

  write(entry: BatchEntry): Promise<void> {
    return this.writeLines(this.lines(entry));
  }

  async writeLines(text: string[]): Promise<void> {
    if (!this.out) {
      for (const l of text) console.log(l);
      return;
    }
    // Back-pressure: wait for the file to drain rather than queueing lines in memory.
    if (!this.out.write(text.map((l) => `${l}\n`).join(''))) await once(this.out, 'drain');
  }

  async end(): Promise<void> {
    if (this.out) {
      this.out.end();
      await once(this.out, 'finish');
    }
  }

  async abort(): Promise<void> {
    await this.end();
  }
}

const COCO_KEYPOINTS = KEYPOINT_STYLE.map((k) => snake(k.name));

class CocoSink implements Sink {
  private imageId = 0;
  private annotationId = 0;
  private readonly imagesFile: string;
  private readonly annotationsFile: string;
  private readonly images: WriteStream;
  private readonly annotations: WriteStream;

  constructor(private readonly target: string | null) {
    const base = target ?? path.join(process.cwd(), 'coco');
    const tag = `${process.pid}.${Date.now()}`;
    this.imagesFile = path.join(path.dirname(base), `.${path.basename(base)}.${tag}.images.tmp`);
    this.annotationsFile = path.join(path.dirname(base), `.${path.basename(base)}.${tag}.annotations.tmp`);
    this.images = createWriteStream(this.imagesFile, { flags: 'wx' });
    this.annotations = createWriteStream(this.annotationsFile, { flags: 'wx' });
  }

  private async put(stream: WriteStream, first: boolean, record: unknown): Promise<void> {
    if (!stream.write(`${first ? '' : ',\n'}${JSON.stringify(record)}`)) await once(stream, 'drain');
  }

  async write(entry: BatchEntry): Promise<void> {
    if (!entry.ok) return; // errors go to stderr and the exit status; COCO has no place for them
    const id = ++this.imageId;
    await this.put(this.images, id === 1, { id, file_name: entry.input, width: entry.width, height: entry.height });
    const r = (v: number) => Math.round(v * 100) / 100;
    for (const f of entry.faces) {
      const aid = ++this.annotationId;
      const { xMin, yMin, width, height } = f.box;
      await this.put(this.annotations, aid === 1, {
        id: aid,
        image_id: id,
        category_id: 1,
        bbox: [r(xMin), r(yMin), r(width), r(height)],
        area: r(width * height),
        iscrowd: 0,
        // v = 2: labelled and visible (the detector always places all six).
        keypoints: KEYPOINT_NAMES.flatMap((k) => [r(f.keypoints[k].x), r(f.keypoints[k].y), 2]),
        num_keypoints: KEYPOINT_NAMES.length,
        score: Math.round(f.score * 1e4) / 1e4,
      });
    }
  }

  async end(): Promise<void> {
    for (const s of [this.images, this.annotations]) {
      s.end();
      await once(s, 'finish');
    }
    const categories = [{ id: 1, name: 'face', supercategory: 'person', keypoints: COCO_KEYPOINTS, skeleton: [] }];
    // To a file: written beside it under a temporary name, renamed into place when complete.
    const partial = this.target ? `${this.imagesFile.replace(/\.images\.tmp$/, '')}.json.tmp` : undefined;
    const out = partial ? createWriteStream(partial, { flags: 'wx' }) : process.stdout;
    const parts: string[] = [
      `{"info":{"description":"blazeface-toolkit detect"},"categories":${JSON.stringify(categories)},\n"images":[\n`,
      this.imagesFile,
      `\n],\n"annotations":[\n`,
      this.annotationsFile,
      `\n]}\n`,
    ];
    try {
      for (const [i, p] of parts.entries()) {
        if (i % 2 === 0) {
          if (!out.write(p)) await once(out, 'drain');
        } else {
          await pipeline(createReadStream(p), out, { end: false });
        }
      }
      if (partial && this.target) {
        (out as WriteStream).end();
        await once(out, 'finish');
        await rename(partial, this.target);
      }
    } finally {
      if (partial) await rm(partial, { force: true });
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    await rm(this.imagesFile, { force: true });
    await rm(this.annotationsFile, { force: true });
  }
}

/** The sink for `format`, to `file` (appending when `append`) or stdout. */
export async function createSink(format: Format, file: string | undefined, append: boolean): Promise<Sink> {
  if (format === 'coco') return new CocoSink(file ?? null);
  const existing = file && append ? ((await stat(file).catch(() => null))?.size ?? 0) : 0;
  const out = file ? createWriteStream(file, { flags: append ? 'a' : 'w' }) : null;
  const lines = format === 'csv' ? csvRows : format === 'jsonl' ? (e: BatchEntry) => [JSON.stringify(jsonRecord(e))] : (e: BatchEntry) => [describe(e)];
  const sink = new LineSink(out, lines);
  if (format === 'csv' && existing === 0) await sink.writeLines([CSV_HEADER.join(',')]);
  return sink;
}

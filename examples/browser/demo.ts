// The demo page's module (bundled by `npm run demo`). It uses the public browser API only:
// createDetector from src/browser/index.ts, the same file `blazeface-toolkit/browser` exports.
// For automation, ?image=<url>&preset=..&backend=..&minScore=.. runs once on load and publishes the
// result as window.__detections (and in #detections), with window.__demoState 'done' or 'error'.
import { createDetector, KEYPOINT_NAMES, type BrowserBackendName, type BrowserDetector, type Face, type PresetName } from '../../src/browser/index.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('view');
const ctx = canvas.getContext('2d')!;
const status = $<HTMLDivElement>('status');
const presetSel = $<HTMLSelectElement>('preset');
const backendSel = $<HTMLSelectElement>('backend');
const minScoreIn = $<HTMLInputElement>('minScore');
const flipIn = $<HTMLInputElement>('flip');
const video = $<HTMLVideoElement>('video');
const out = $<HTMLPreElement>('detections');
const base = location.origin;
const w = window as unknown as { __detections?: unknown; __demoState?: string; __demoError?: string; blazeface?: unknown };
// The library itself, for experiments in the devtools console (and the input-type test).
w.blazeface = { createDetector };

const params = new URLSearchParams(location.search);
for (const [key, el] of [['preset', presetSel], ['backend', backendSel], ['minScore', minScoreIn]] as const) {
  const v = params.get(key);
  if (v !== null) el.value = v;
}

function say(text: string, error = false): void {
  status.textContent = text;
  status.className = error ? 'error' : '';
}

let detector: BrowserDetector | null = null;
let detectorKey = '';

async function getDetector(): Promise<BrowserDetector> {
  const minScore = minScoreIn.value === '' ? undefined : Number(minScoreIn.value);
  const key = `${presetSel.value}|${backendSel.value}|${minScore}`;
  if (detector && key === detectorKey) return detector;
  await detector?.dispose();
  detector = null;
  say(`Loading ${presetSel.value} on ${backendSel.value}…`);
  const preset = presetSel.value as PresetName;
  detector = await createDetector({
    preset,
    backend: backendSel.value as BrowserBackendName,
    minScore,
    artifactsUrl: `${base}/artifacts`,
    modelUrl: `${base}/models/${preset}.tflite`,
    wasmPaths: { tfjs: `${base}/wasm/tfjs/`, ort: `${base}/wasm/ort/`, tflite: `${base}/wasm/tflite/` },
  });
  detectorKey = key;
  return detector;
}

function draw(source: CanvasImageSource, width: number, height: number, faces: Face[], mirrored: boolean): void {
  canvas.width = width;
  canvas.height = height;
  ctx.save();
  if (mirrored) {
    // Faces were found on the mirrored image, so draw the mirrored image under them.
    ctx.translate(width, 0);
    ctx.scale(-1, 1);
  }
  ctx.drawImage(source, 0, 0, width, height);
  ctx.restore();
  const lw = Math.max(2, Math.round(width / 300));
  ctx.lineWidth = lw;
  ctx.font = `${Math.max(12, lw * 6)}px system-ui`;
  for (const f of faces) {
    const { xMin, yMin, xMax, yMax } = f.box;
    ctx.strokeStyle = '#00e676';
    ctx.strokeRect(xMin, yMin, xMax - xMin, yMax - yMin);
    ctx.fillStyle = '#00e676';
    ctx.fillText(f.score.toFixed(3), xMin, Math.max(12, yMin - 4));
    ctx.fillStyle = '#ff1744';
    for (const name of KEYPOINT_NAMES) {
      const p = f.keypoints[name];
      ctx.beginPath();
      ctx.arc(p.x, p.y, lw * 1.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function publish(faces: Face[], width: number, height: number, ms: number, d: BrowserDetector): void {
  const result = {
    preset: d.preset.name,
    backend: d.backendName,
    width,
    height,
    ms,
    faces: faces.map((f) => ({ box: f.box, keypoints: f.keypoints, score: f.score, normalized: f.toArray() })),
  };
  w.__detections = result;
  out.textContent = JSON.stringify(result, null, 2);
}

/** Decoded without colour management, so the pixels are the file's own (as sharp gives them under Node). */
async function loadBitmap(blob: Blob): Promise<ImageBitmap> {
  return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

async function runOnImage(blob: Blob, name: string): Promise<void> {
  stopWebcam();
  const d = await getDetector();
  const bitmap = await loadBitmap(blob);
  const t0 = performance.now();
  const faces = await d.detect(bitmap, { flipHorizontal: flipIn.checked });
  const ms = performance.now() - t0;
  draw(bitmap, bitmap.width, bitmap.height, faces, flipIn.checked);
  publish(faces, bitmap.width, bitmap.height, ms, d);
  say(`${name}: ${faces.length} face(s) in ${ms.toFixed(1)} ms (${d.preset.name} on ${d.backendName})`);
  bitmap.close();
}

let stream: MediaStream | null = null;
let frameLoop = 0;

function stopWebcam(): void {
  cancelAnimationFrame(frameLoop);
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  $<HTMLButtonElement>('webcam').textContent = 'Start webcam';
}

async function startWebcam(): Promise<void> {
  stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  video.srcObject = stream;
  await video.play();
  flipIn.checked = true;
  $<HTMLButtonElement>('webcam').textContent = 'Stop webcam';
  let busy = false;
  const tick = async () => {
    if (!stream) return;
    frameLoop = requestAnimationFrame(() => void tick());
    if (busy || video.readyState < 2) return;
    busy = true;
    try {
      const d = await getDetector();
      const t0 = performance.now();
      const faces = await d.detect(video, { flipHorizontal: flipIn.checked });
      const ms = performance.now() - t0;
      draw(video, video.videoWidth, video.videoHeight, faces, flipIn.checked);
      publish(faces, video.videoWidth, video.videoHeight, ms, d);
      say(`webcam: ${faces.length} face(s), ${ms.toFixed(1)} ms/frame (${d.preset.name} on ${d.backendName})`);
    } catch (err) {
      say(String(err instanceof Error ? err.message : err), true);
      stopWebcam();
    } finally {
      busy = false;
    }
  };
  void tick();
}

async function guarded(work: () => Promise<void>): Promise<void> {
  try {
    w.__demoState = 'running';
    await work();
    w.__demoState = 'done';
  } catch (err) {
    const msg = err instanceof Error ? `${err.name}${'code' in err ? ` ${String((err as { code: unknown }).code)}` : ''}: ${err.message}` : String(err);
    w.__demoError = msg;
    w.__demoState = 'error';
    say(msg, true);
  }
}

let lastImage: { blob: Blob; name: string } | null = null;

$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  lastImage = { blob: file, name: file.name };
  void guarded(() => runOnImage(file, file.name));
});
$<HTMLButtonElement>('webcam').addEventListener('click', () => void guarded(() => (stream ? Promise.resolve(stopWebcam()) : startWebcam())));
for (const el of [presetSel, backendSel, minScoreIn, flipIn]) {
  el.addEventListener('change', () => {
    if (lastImage && !stream) void guarded(() => runOnImage(lastImage!.blob, lastImage!.name));
  });
}

const imageParam = params.get('image');
if (imageParam) {
  void guarded(async () => {
    const res = await fetch(imageParam);
    if (!res.ok) throw new Error(`${imageParam}: HTTP ${res.status}`);
    lastImage = { blob: await res.blob(), name: imageParam };
    await runOnImage(lastImage.blob, lastImage.name);
  });
} else {
  say('Pick an image or start the webcam.');
}

// The demo page (npm run demo) in headless Chromium on the seed photos: the faces it publishes
// (window.__detections) match the Node detector's in number and within 1e-5 in normalized coordinates.
// The photos are 128x128, short_range's input size, so no resampling is involved on either side.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector } from '../src/detect/detector.js';
import { chromiumMissingReason, launchChromium } from '../src/devserver/chromium.js';
import { startDemoServer } from '../src/devserver/demo-server.js';
import type { StaticServer } from '../src/devserver/static-server.js';
import { SEED_PHOTOS, seedDir } from '../src/fixtures.js';

const SEED = seedDir();
const CHROMIUM = chromiumMissingReason();
const skip = CHROMIUM ? `skipped: ${CHROMIUM}` : !SEED ? 'skipped: no seed photos (../shared/seed or $BLAZEFACE_SEED_DIR)' : '';

interface DemoResult {
  preset: string;
  backend: string;
  width: number;
  height: number;
  faces: { normalized: number[]; score: number }[];
}

describe.skipIf(skip !== '')(`demo page in headless Chromium${skip ? ` (${skip})` : ''}`, () => {
  let browser: Browser;
  let server: StaticServer;
  beforeAll(async () => {
    server = await startDemoServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const backend of ['onnxruntime-web-wasm', 'tfjs-wasm'] as const) {
    it(`${backend}: same faces as the Node detector on ${SEED_PHOTOS.join(', ')}`, async () => {
      const node = await createDetector({ preset: 'short_range', backend: 'onnxruntime-node' });
      const page = await browser.newPage();
      try {
        for (const [i, photo] of SEED_PHOTOS.entries()) {
          // The first photo through the ?image= link, the others through the page's file picker
          // (the detector stays loaded between them, as for a user).
          if (i === 0) {
            await page.goto(`${server.url}/?image=/seed/${photo}&preset=short_range&backend=${backend}`);
          } else {
            await page.evaluate(() => ((window as any).__demoState = 'picking'));
            await page.setInputFiles('#file', path.join(SEED!, photo));
          }
          await page.waitForFunction(() => ['done', 'error'].includes((window as any).__demoState), undefined, { timeout: 60_000 });
          const state = await page.evaluate(() => ({ state: (window as any).__demoState as string, error: (window as any).__demoError as string | undefined }));
          expect(state.error, photo).toBeUndefined();
          const got = (await page.evaluate(() => (window as any).__detections)) as DemoResult;
          // The page shows the same JSON it publishes.
          expect(JSON.parse((await page.textContent('#detections'))!)).toEqual(got);
          const want = await node.detect(path.join(SEED!, photo));
          expect([got.width, got.height]).toEqual([128, 128]);
          expect(got.faces.length, `${photo}: face count`).toBe(want.length);
          got.faces.forEach((f, i) => {
            const ref = want[i]!.toArray();
            f.normalized.forEach((v, k) => expect(Math.abs(v - ref[k]!), `${photo} face ${i} value ${k}`).toBeLessThanOrEqual(1e-5));
          });
        }
      } finally {
        await page.close();
        await node.dispose();
      }
    });
  }

  it('every browser input type gives the same faces (ImageBitmap, ImageData, img, canvas, OffscreenCanvas, video, VideoFrame, raw RGBA/RGB), and flipHorizontal mirrors them', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => 'blazeface' in window);
      const result = await page.evaluate(async () => {
        const { createDetector } = (window as any).blazeface;
        const base = location.origin;
        const d = await createDetector({
          preset: 'short_range',
          backend: 'tfjs-wasm',
          artifactsUrl: `${base}/artifacts`,
          wasmPaths: { tfjs: `${base}/wasm/tfjs/` },
        });
        const blob = await (await fetch('/seed/1face.png')).blob();
        const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const canvas = document.createElement('canvas');
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(bitmap, 0, 0);
        const imageData = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const rgb = new Uint8Array((imageData.data.length / 4) * 3);
        for (let p = 0, q = 0; p < imageData.data.length; p += 4, q += 3) rgb.set(imageData.data.subarray(p, p + 3), q);
        const off = new OffscreenCanvas(canvas.width, canvas.height);
        off.getContext('2d')!.drawImage(bitmap, 0, 0);
        const img = new Image();
        img.src = URL.createObjectURL(blob);
        await img.decode();
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = canvas.captureStream();
        // A captured canvas emits frames when it is drawn; play() may not settle before one arrives.
        void video.play().catch(() => undefined);
        for (let i = 0; i < 100 && video.readyState < 2; i++) {
          ctx.drawImage(bitmap, 0, 0);
          await new Promise((r) => setTimeout(r, 50));
        }
        const frame = new VideoFrame(canvas, { timestamp: 0 });
        const inputs: Record<string, unknown> = {
          ImageBitmap: bitmap,
          ImageData: imageData,
          HTMLImageElement: img,
          HTMLCanvasElement: canvas,
          OffscreenCanvas: off,
          HTMLVideoElement: video,
          VideoFrame: frame,
          'raw RGBA': { data: imageData.data, width: canvas.width, height: canvas.height },
          'raw RGB': { data: rgb, width: canvas.width, height: canvas.height },
        };
        const out: Record<string, number[][]> = {};
        for (const [name, input] of Object.entries(inputs)) out[name] = (await d.detect(input)).map((f: any) => f.toArray());
        const flipped = (await d.detect(bitmap, { flipHorizontal: true })).map((f: any) => f.toArray());
        let badRaw = '';
        await d.detect({ data: new Uint8Array(10), width: 2, height: 2 }).catch((e: any) => (badRaw = `${e.name} ${e.code}`));
        frame.close();
        await d.dispose();
        return { out, flipped, badRaw };
      });
      const want = result.out.ImageBitmap!;
      expect(want.length).toBe(1);
      for (const [name, faces] of Object.entries(result.out)) {
        if (name === 'HTMLImageElement' || name === 'HTMLVideoElement') {
          // Drawn through the page's colour management and, for video, a YUV round trip: same face, close numbers.
          expect(faces.length, name).toBe(1);
          faces[0]!.slice(0, 16).forEach((v, k) => expect(Math.abs(v - want[0]![k]!), `${name} value ${k}`).toBeLessThan(0.02));
        } else {
          expect(faces, name).toEqual(want);
        }
      }
      // Mirrored: x -> 1 - x for the box (xmin/xmax swap) and the keypoints.
      expect(result.flipped.length).toBe(1);
      const f = result.flipped[0]!, g = want[0]!;
      expect(Math.abs(f[1]! - (1 - g[3]!))).toBeLessThan(0.02);
      expect(Math.abs(f[3]! - (1 - g[1]!))).toBeLessThan(0.02);
      expect(Math.abs(f[0]! - g[0]!)).toBeLessThan(0.02);
      expect(result.badRaw).toBe('InputImageError IMAGE_RAW_LENGTH');
    } finally {
      await page.close();
    }
  });
});

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
});

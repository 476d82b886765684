import { bundleToString } from './src/devserver/bundle.ts';
const t0 = performance.now();
const js = await bundleToString('src/browser/harness.ts');
console.log(js.length, performance.now() - t0);

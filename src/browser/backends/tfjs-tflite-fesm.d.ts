// @tensorflow/tfjs-tflite's flat ESM bundle has the same API as the package's typed entry.
declare module '@tensorflow/tfjs-tflite/dist/tf-tflite.fesm.js' {
  export * from '@tensorflow/tfjs-tflite';
}

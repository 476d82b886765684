// `blazeface convert` argument handling: usage errors exit 2 with the usage text; a missing model file is a typed error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../src/cli/commands/convert.js';
import { ToolkitError } from '../src/errors.js';

afterEach(() => vi.restoreAllMocks());

async function capture(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await run(argv);
  return { code, err: err.join('\n') };
}

describe('blazeface convert arguments', () => {
  it('rejects an unknown preset, an unknown option, a bad --tfjs-weights and --model-file with several presets', async () => {
    for (const [argv, message] of [
      [['--preset', 'nope'], /unknown preset 'nope'; expected one of short_range/],
      [['--frob'], /Unknown option '--frob'/],
      [['--preset', 'short_range', '--tfjs-weights', 'int8'], /--tfjs-weights must be float16 or float32/],
      [['--preset', 'front,back', '--model-file', 'x.tflite'], /--model-file needs exactly one --preset/],
    ] as const) {
      const { code, err } = await capture([...argv]);
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toMatch(message);
    }
  });

  it('names a model file that does not exist', async () => {
    const err = await capture(['--preset', 'front', '--model-file', '/nonexistent/face_detection_front.tflite']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolkitError);
    expect((err as ToolkitError).code).toBe('MODEL_FILE_NOT_FOUND');
    expect((err as Error).message).toContain('/nonexistent/face_detection_front.tflite');
  });
});

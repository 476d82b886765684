// Command-line conventions shared by every command (src/cli/args.ts, src/cli/main.ts): --version,
// unknown command, usage on stderr with exit 2, negative numbers as values, empty values refused,
// and exit 1 (not 2) for failures at run time.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCommand, UsageError } from '../src/cli/args.js';
import { run as anchors } from '../src/cli/commands/anchors.js';
import { run as convert } from '../src/cli/commands/convert.js';
import { run as detect } from '../src/cli/commands/detect.js';
import { run as inspect } from '../src/cli/commands/inspect.js';
import { run as verify } from '../src/cli/commands/verify.js';
import { REPO_ROOT } from '../src/fixtures.js';
import { TOOLKIT_NAME, TOOLKIT_VERSION } from '../src/version.js';
import { captureConsole } from './helpers/console.js';

const exec = promisify(execFile);
const MAIN = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** The real `blazeface` process (through tsx), so exit codes and streams are the ones a shell sees. */
async function blazeface(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function capture(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, out, err } = await captureConsole(run, argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cli-conventions-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

describe('blazeface (the process)', () => {
  it('--version prints name and version, exit 0', async () => {
    const r = await blazeface('--version');
    expect(r).toMatchObject({ code: 0, stdout: `${TOOLKIT_NAME} ${TOOLKIT_VERSION}\n` });
  });

  it('no argument: usage on stderr, exit 2; --help: usage on stdout, exit 0', async () => {
    const none = await blazeface();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^usage: blazeface <command>/);
    const help = await blazeface('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: blazeface <command>/);
  });

  it("a wrong command is 'unknown command', exit 2", async () => {
    const r = await blazeface('detecct', 'x.png');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^unknown command 'detecct'; expected one of inspect, anchors, convert, verify, detect/);
  });

  it('a failure at run time is exit 1 with the typed code, not the usage exit 2', async () => {
    const r = await blazeface('detect', path.join(REPO_ROOT, 'package.json'), '--preset', 'front', '--backend', 'reference');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[MODEL_FILE_REQUIRED\]/);
  });
});

describe('usage errors in every command: exit 2, message and usage on stderr', () => {
  it.each([
    ['detect', detect, ['x.png', '--min-score', '-1'], /--min-score: -1 is out of range: expected a number in \[0, 1\]/],
    ['detect', detect, ['x.png', '--min-score=-0.5'], /--min-score: -0.5 is out of range/],
    ['detect', detect, ['x.png', '--iou', '-.5'], /--iou: -.5 is out of range/],
    ['detect', detect, ['x.png', '--max-faces', '0'], /--max-faces: 0 is out of range: expected an integer >= 1/],
    ['detect', detect, ['x.png', '--max-faces', '2.5'], /--max-faces: expected an integer, got '2.5'/],
    ['detect', detect, ['x.png', '--backend', 'gpu'], /--backend: expected auto or reference or/],
    ['detect', detect, ['x.png', '--preset', ''], /--preset: empty name in ''/],
    ['detect', detect, ['x.png', '--out', ''], /--out: empty path/],
    ['detect', detect, [], /no images given/],
    ['convert', convert, ['--preset', ''], /--preset: empty name in ''/],
    ['convert', convert, ['--preset', 'short_range,'], /--preset: empty name in 'short_range,'/],
    ['anchors', anchors, ['--preset', ''], /--preset: empty name in ''/],
    ['inspect', inspect, ['--frob'], /Unknown option '--frob'/],
    ['inspect', inspect, ['a.tflite', 'b.tflite'], /unexpected argument b.tflite/],
    ['verify', verify, ['--runs', '-2'], /--runs: -2 is out of range: expected an integer >= 0/],
    ['verify', verify, ['--tolerance', 'x'], /--tolerance: expected a number, got 'x'/],
    ['verify', verify, ['--backends', 'gpu'], /--backends: expected reference or/],
  ] as const)('%s %j', async (name, run, argv, message) => {
    const { code, out, err } = await capture(run, [...argv]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
    expect(err).toContain(`usage: blazeface ${name}`);
  });

  it("convert --preset '' converts nothing (it used to convert every preset)", async () => {
    const out = path.join(dir, 'convert-out');
    expect((await capture(convert, ['--preset', '', '--out', out])).code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('--help prints the usage on stdout and exits 0 in every command', async () => {
    for (const [name, run] of [['detect', detect], ['convert', convert], ['anchors', anchors], ['inspect', inspect], ['verify', verify]] as const) {
      const { code, out } = await capture(run, ['--help']);
      expect(code, name).toBe(0);
      expect(out, name).toContain(`usage: blazeface ${name}`);
    }
  });

  it('detect --help says when to pick short_range', async () => {
    const { out } = await capture(detect, ['--help']);
    expect(out).toMatch(/default full_range/);
    expect(out).toMatch(/short_range .*selfies and webcams/);
  });
});

describe('parseCommand', () => {
  const options = { n: { type: 'string' }, flag: { type: 'boolean' } } as const;
  it('joins a negative number to the option before it, but not after a boolean or the -- terminator', () => {
    expect(parseCommand(['--n', '-3', 'pos'], 'u', options, true)).toMatchObject({ values: { n: '-3' }, positionals: ['pos'] });
    expect(() => parseCommand(['--flag', '-3'], 'u', options, true)).toThrow(UsageError);
    expect(parseCommand(['--', '--n', '-3'], 'u', options, true)).toMatchObject({ positionals: ['--n', '-3'] });
    expect(() => parseCommand(['--n', '--flag'], 'u', options)).toThrow(/argument is ambiguous|argument missing/);
  });
});

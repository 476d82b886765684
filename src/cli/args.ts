// Argument handling shared by every command: node:util parseArgs (strict), --help, negative numbers as
// option values, numbers with ranges, choices and preset lists, all failing with UsageError (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PRESETS } from '../presets/index.js';
import type { PresetName } from '../presets/types.js';

/** Exit status of every command: 0 success, 1 failure (an input or a run failed), 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Bad command-line usage: printed with the command's usage text on stderr, exit 2. */
export class UsageError extends Error {}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
type WithHelp<O extends OptionSpecs> = O & { help: { type: 'boolean'; short: 'h' } };
type ParsedCommand<O extends OptionSpecs, P extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: WithHelp<O>; strict: true; allowPositionals: P }>
>;

/**
 * parseArgs treats `--min-score -1` as a missing value followed by an unknown option `-1`. A value that
 * looks like a negative number after an option that takes a value is joined to it (`--min-score=-1`),
 * so it reaches the range check and is reported as out of range.
 */
function joinNegativeValues(argv: readonly string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity\b)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Parse a command's arguments strictly. Returns null after printing `usage` on stdout for --help/-h
 * (the command then exits 0); throws UsageError for an unknown option, a missing value, or a positional
 * argument the command does not take.
 */
export function parseCommand<const O extends OptionSpecs, const P extends boolean = false>(
  argv: readonly string[],
  usage: string,
  options: O,
  allowPositionals?: P,
): ParsedCommand<O, P> | null {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<O>;
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), options: all, strict: true, allowPositionals: (allowPositionals ?? false) as P });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return null;
  }
  return parsed;
}

/** Run a command body; a UsageError becomes its message and the usage text on stderr, and exit 2. */
export async function withUsage(usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${usage}`);
    return EXIT.usage;
  }
}

export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/** A numeric option value: undefined when absent; UsageError when not a finite number or out of range. */
export function numberOption(flag: string, value: string | undefined, range: NumberRange = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const kind = range.integer ? 'an integer' : 'a number';
  if (value.trim() === '' || !Number.isFinite(n) || (range.integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: expected ${kind}, got '${value}'`);
  }
  const { min, max } = range;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const bounds = min !== undefined && max !== undefined ? `in [${min}, ${max}]` : min !== undefined ? `>= ${min}` : `<= ${max}`;
    throw new UsageError(`${flag}: ${value} is out of range: expected ${kind} ${bounds}`);
  }
  return n;
}

/** A value that must be one of `choices`. */
export function choiceOption<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${flag}: expected ${choices.join(' or ')}, got '${value}'`);
  return value as T;
}

/** Comma-separated list entries, trimmed; an empty entry (as in `''` or `a,,b`) is a usage error. */
export function listOption(flag: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`${flag}: empty name in '${value}'`);
  return items;
}

/** Preset names from one or more (comma-separated) option values; unknown or empty names are usage errors. */
export function presetNames(flag: string, values: readonly string[]): PresetName[] {
  const names = values.flatMap((v) => listOption(flag, v));
  const unknown = names.filter((n) => !(n in PRESETS));
  if (unknown.length > 0) {
    throw new UsageError(`unknown preset ${unknown.map((n) => `'${n}'`).join(', ')}; expected one of ${Object.keys(PRESETS).join(', ')}`);
  }
  return names as PresetName[];
}

/** A file or folder option: undefined when absent; an empty value (`--out ''`) is a usage error, not "the default". */
export function pathOption(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`${flag}: empty path`);
  return value;
}

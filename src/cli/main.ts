#!/usr/bin/env node
// The `blazeface` command: one module per subcommand under ./commands, loaded on demand.
// Exit status everywhere: 0 success, 1 failure, 2 usage error (see ./args.ts).
import { ToolkitError } from '../errors.js';
import { TOOLKIT_NAME, TOOLKIT_VERSION } from '../version.js';
import { EXIT, UsageError } from './args.js';

type Command = { run(argv: string[]): Promise<number>; summary: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  inspect: () => import('./commands/inspect.js'),
  anchors: () => import('./commands/anchors.js'),
  convert: () => import('./commands/convert.js'),
  verify: () => import('./commands/verify.js'),
  detect: () => import('./commands/detect.js'),
};

async function usage(): Promise<string> {
  const lines = ['usage: blazeface <command> [options]', '       blazeface <command> --help', '       blazeface --version', '', 'commands:'];
  for (const [cmd, load] of Object.entries(COMMANDS)) lines.push(`  ${cmd.padEnd(9)} ${(await load()).summary}`);
  lines.push('', 'Exit status: 0 success, 1 failure, 2 usage error.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    console.log(await usage());
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    console.log(`${TOOLKIT_NAME} ${TOOLKIT_VERSION}`);
    return EXIT.ok;
  }
  if (name === undefined) {
    console.error(await usage());
    return EXIT.usage;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    throw new UsageError(`unknown command '${name}'; expected one of ${Object.keys(COMMANDS).join(', ')}`);
  }
  const command = await COMMANDS[name]!();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${await usage()}`);
      process.exitCode = EXIT.usage;
      return;
    }
    // Users get the message; the stack only when asked for (BLAZEFACE_DEBUG=1) or for non-Error throws.
    if (err instanceof ToolkitError) console.error(`error [${err.code}]: ${err.message}`);
    else if (err instanceof Error) console.error(`error: ${err.message}`);
    else console.error(`error: ${String(err)}`);
    if (process.env.BLAZEFACE_DEBUG && err instanceof Error && err.stack) console.error(err.stack);
    process.exitCode = EXIT.failure;
  },
);

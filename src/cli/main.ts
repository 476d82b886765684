#!/usr/bin/env node
// The `blazeface` command: one module per subcommand under ./commands, loaded on demand.
import { ToolkitError } from '../errors.js';

type Command = { run(argv: string[]): Promise<number>; summary: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  inspect: () => import('./commands/inspect.js'),
  anchors: () => import('./commands/anchors.js'),
  convert: () => import('./commands/convert.js'),
  verify: () => import('./commands/verify.js'),
  detect: () => import('./commands/detect.js'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || !(name in COMMANDS)) {
    const lines = ['usage: blazeface <command> [options]', '', 'commands:'];
    for (const [cmd, load] of Object.entries(COMMANDS)) lines.push(`  ${cmd.padEnd(9)} ${(await load()).summary}`);
    (name && name !== '--help' && name !== '-h' ? console.error : console.log)(lines.join('\n'));
    return name && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  const command = await COMMANDS[name]!();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Users get the message; the stack only when asked for (BLAZEFACE_DEBUG=1) or for non-Error throws.
    if (err instanceof ToolkitError) console.error(`error [${err.code}]: ${err.message}`);
    else if (err instanceof Error) console.error(`error: ${err.message}`);
    else console.error(`error: ${String(err)}`);
    if (process.env.BLAZEFACE_DEBUG && err instanceof Error && err.stack) console.error(err.stack);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
import { UsageError } from './args.js';
import { serve, SERVE_USAGE } from './serve.js';

const USAGE = `Usage: ferry <command> [flags]

Commands:
  serve      run the control plane (files mode) and, by default, a local gateway Envoy
  help       show this help; \`ferry <command> --help\` shows a command's flags
`;

type Command = (argv: string[]) => Promise<void>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  serve: { run: serve, usage: SERVE_USAGE },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`ferry: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ferry ${name}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    process.stderr.write(`ferry ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);

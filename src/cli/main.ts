#!/usr/bin/env node
import { UsageError } from './args.js';
import { dump, DUMP_USAGE } from './dump.js';
import { get, GET_USAGE } from './get.js';
import type { CommandResult } from './output.js';
import { serve, SERVE_USAGE } from './serve.js';
import { status, STATUS_USAGE } from './status.js';
import { validate, VALIDATE_USAGE } from './validate.js';

const USAGE = `Usage: ferry <command> [flags]

Commands:
  serve      run the control plane (files mode) and, by default, a local gateway Envoy
  dump       print the Envoy configuration a running Ferry serves (Envoy's /config_dump shape)
  status     show each connected gateway and whether it took the configuration (SYNCED / STALE / NACKED)
  get        list ingresses, routes or domainmappings with their readiness
  validate   check manifests without serving them; --diff compares with a running Ferry
  help       show this help; \`ferry <command> --help\` shows a command's flags
`;

type Command = (argv: string[]) => Promise<CommandResult | void>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  serve: { run: serve, usage: SERVE_USAGE },
  dump: { run: dump, usage: DUMP_USAGE },
  status: { run: status, usage: STATUS_USAGE },
  get: { run: get, usage: GET_USAGE },
  validate: { run: validate, usage: VALIDATE_USAGE },
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
    const result = await command.run(rest);
    if (!result) return 0;
    await new Promise<void>((resolve) => process.stdout.write(result.stdout, () => resolve()));
    return result.exitCode;
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

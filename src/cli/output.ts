import { stringify } from 'yaml';
import { UsageError } from './args.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** What a command prints and its exit code; commands return this so that tests can run them in-process. */
export interface CommandResult {
  stdout: string;
  exitCode: number;
}

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table' || value === 'wide') return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw new UsageError(`-o ${value}: expected json or yaml (default: a table)`);
}

export function formatStructured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}

/** A kubectl-style table: upper-case headers, columns padded to their widest cell, three spaces apart, no borders. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ').trimEnd();
  return `${[line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n')}\n`;
}

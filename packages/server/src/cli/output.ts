/** Printing results: `--json` gives one JSON document per line, otherwise text meant for people. */
import type { Command } from 'commander';

export function jsonOption(command: Command): Command {
  return command.option('--json', 'print the result as one line of JSON');
}

/** Prints `data` as JSON with --json, else `human(data)` (indented JSON when no text form is given). */
export function printData<T>(command: Command, data: T, human?: (data: T) => string): void {
  const json = Boolean(command.opts().json);
  if (json) process.stdout.write(`${JSON.stringify(data)}\n`);
  else process.stdout.write(human ? ensureNewline(human(data)) : `${JSON.stringify(data, null, 2)}\n`);
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A plain text table: one header row, columns padded to their widest cell. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return `${cells
    .map((row) =>
      row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

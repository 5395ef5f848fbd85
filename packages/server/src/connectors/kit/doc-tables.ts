/** Markdown for the tables docs/banks.md generates from each standard's own tables (its doc-tables.ts). */

/** A code as Markdown shows it. */
export const code = (s: string): string => `\`${s}\``;

/** A Markdown table: a head row, the separator, one row per entry. */
export function markdownTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

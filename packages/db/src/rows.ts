/**
 * The single row a statement must yield (an INSERT … RETURNING, a row just locked). An empty
 * result is a broken invariant, not a "not found": it fails loudly with what was expected.
 */
export function onlyRow<T>(rows: readonly T[], what: string): T {
  const [row] = rows;
  if (row === undefined) throw new Error(`expected ${what}, got no row`);
  return row;
}

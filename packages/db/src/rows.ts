/**
 * The single row a statement must yield (an INSERT … RETURNING, a row just locked). An empty
 * result is a broken invariant, not a "not found": it fails loudly with what was expected.
 */
export function onlyRow<T>(rows: readonly T[], what: string): T {
  const [row] = rows;
  if (row === undefined) throw new Error(`expected ${what}, got no row`);
  return row;
}

/** Whether a statement failed on a unique constraint (PostgreSQL 23505, also when wrapped). */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** True when `error` (or its cause) is PostgreSQL's foreign_key_violation (23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === '23503') return true;
  }
  return false;
}

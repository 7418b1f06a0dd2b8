/** A page of a cursor-paginated list: `?limit=&cursor=` → `{ data, nextCursor }`. */
export interface Page<T, C = string> {
  data: T[];
  nextCursor: C | null;
}

/**
 * Cuts rows fetched with `limit + 1` into a page: the extra row only tells that more exist, and
 * the cursor is the last returned row's key.
 */
export function pageOf<T, C>(rows: T[], limit: number, cursorOf: (row: T) => C): Page<T, C> {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}

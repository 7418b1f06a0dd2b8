/**
 * A value the caller knows is there: an index found a line earlier, a field of a validated
 * document. It saves an untestable fallback branch at each such place; if the reasoning is ever
 * wrong, this throws instead of carrying on with undefined.
 */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`internal: ${what} is missing`);
  return value;
}

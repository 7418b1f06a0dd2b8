/**
 * RFC 3339 with the offset the IANA zone has at that instant (`2026-12-01T09:00:00-05:00`), as
 * Google Calendar renders `dateTime` in a requested `timeZone` and GoHighLevel renders
 * appointment times in the calendar's zone.
 */
export function formatInZone(ms: number, timeZone: string): string {
  const at = Math.floor(ms / 1000) * 1000;
  // Swedish formats as ISO 8601 (`2026-12-01 09:00:00`).
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
    .format(new Date(at))
    .replace(' ', 'T');
  const offsetMin = Math.round((Date.parse(`${local}Z`) - at) / 60_000);
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}

/** Whether the string is a valid IANA zone name. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A JSON object's fields (anything else: none). */
export function fields(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A scalar as text (objects and arrays: empty). */
export function scalar(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

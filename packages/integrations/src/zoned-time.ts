import { ProviderError, type ProviderName } from '@maxai/core';

/**
 * RFC 3339 with the offset the IANA zone has at that instant (`2026-12-01T09:00:00-05:00`), as
 * Google Calendar renders `dateTime` in a requested `timeZone` and GoHighLevel renders
 * appointment times in the calendar's zone.
 */
export function formatInZone(
  instant: number | string,
  timeZone: string,
  provider: ProviderName,
): string {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  if (Number.isNaN(ms)) {
    throw new ProviderError({
      kind: 'invalid',
      provider,
      message: `not an RFC 3339 time: ${String(instant)}`,
    });
  }
  const at = Math.floor(ms / 1000) * 1000;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch (cause) {
    throw new ProviderError({
      kind: 'invalid',
      provider,
      message: `not an IANA time zone: ${timeZone}`,
      cause,
    });
  }
  // Swedish formats as ISO 8601 (`2026-12-01 09:00:00`).
  const local = format.format(new Date(at)).replace(' ', 'T');
  const offsetMin = Math.round((Date.parse(`${local}Z`) - at) / 60_000);
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}

/** ISO 8601 durations without years and months (their length varies): `P2W`, `P1DT2H30M`, `PT90S`. */
const ISO_DURATION = /^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
export const DURATION_PATTERN = ISO_DURATION.source;

export const MIN_DELAY_SECONDS = 60;
export const MAX_DELAY_SECONDS = 30 * 24 * 3600;

/** Seconds of a delay duration (a number is seconds already), or null when it is not one. */
export function durationSeconds(duration: string | number): number | null {
  if (typeof duration === 'number') return duration;
  const match = ISO_DURATION.exec(duration);
  if (match === null) return null;
  const [, weeks = '0', days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return (
    Number(weeks) * 604_800 +
    Number(days) * 86_400 +
    Number(hours) * 3600 +
    Number(minutes) * 60 +
    Number(seconds)
  );
}

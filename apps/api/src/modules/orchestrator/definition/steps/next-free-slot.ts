import { z } from 'zod';
import { dateTime, timeRange } from './input-schemas';

const MINUTE = 60_000;
/** The search window is bounded so that one evaluation stays cheap (≤ 8,928 candidates). */
const MAX_WINDOW_MS = 31 * 24 * 60 * MINUTE;

/** Whether Intl knows the IANA time zone (`America/New_York`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isLocale(locale: string): boolean {
  try {
    new Intl.DateTimeFormat(locale);
    return true;
  } catch {
    return false;
  }
}

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');

export const nextFreeSlotInput = z
  .strictObject({
    /** The earliest start, usually the requested time. */
    from: dateTime,
    /** The latest end considered. */
    until: dateTime,
    durationMinutes: z.int().min(5).max(1440),
    busy: z.array(timeRange).max(2000).default([]),
    /** Later candidates start on multiples of this many minutes. */
    stepMinutes: z.int().min(5).max(240).default(15),
    timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone').default('UTC'),
    workingHours: z
      .strictObject({
        start: clock,
        end: clock,
        /** ISO weekdays, 1 = Monday … 7 = Sunday. */
        days: z.array(z.int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
      })
      .optional(),
    /** For the human label (`Tue, Dec 1, 10:00 AM`). */
    locale: z.string().max(35).refine(isLocale, 'must be a BCP 47 locale').default('en-US'),
  })
  .refine((i) => Date.parse(i.until) > Date.parse(i.from), 'until must be after from')
  .refine(
    (i) => Date.parse(i.until) - Date.parse(i.from) <= MAX_WINDOW_MS,
    'the window from..until must not exceed 31 days',
  );

export type NextFreeSlotInput = z.output<typeof nextFreeSlotInput>;

export type NextFreeSlot =
  | { found: false; available: false }
  | { found: true; available: boolean; start: string; end: string; label: string };

/** Intl's short English weekday names, ISO order (1 = Monday). */
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Minutes since midnight of a validated `HH:MM`. */
function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Weekday and minute of the day of an instant, on the wall clock of `timeZone`. */
function wallClock(
  format: Intl.DateTimeFormat,
  at: number,
): { weekday: string | undefined; minute: number } {
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return { weekday: parts.weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** Whether a slot starting then lies inside the working hours (always, without any). */
function workingHoursTest(input: NextFreeSlotInput): (start: number) => boolean {
  const hours = input.workingHours;
  if (hours === undefined) return () => true;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: input.timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const days = hours.days.map((d) => WEEKDAYS[d - 1]);
  const [opens, closes] = [minutesOf(hours.start), minutesOf(hours.end)];
  return (start) => {
    const wall = wallClock(format, start);
    return (
      days.includes(wall.weekday) &&
      wall.minute >= opens &&
      wall.minute + input.durationMinutes <= closes
    );
  };
}

/**
 * The first slot of `durationMinutes` at or after `from` that overlaps no busy interval and, when
 * working hours are given, starts and ends inside them on a working day (wall clock of
 * `timeZone`). `available` says the slot is the one asked for (it starts at `from`).
 */
export function nextFreeSlot(input: NextFreeSlotInput): NextFreeSlot {
  const from = Date.parse(input.from);
  const until = Date.parse(input.until);
  const duration = input.durationMinutes * MINUTE;
  const step = input.stepMinutes * MINUTE;
  const busy = input.busy.map((b) => ({ start: Date.parse(b.start), end: Date.parse(b.end) }));
  const inHours = workingHoursTest(input);
  const alignUp = (t: number): number => Math.ceil(t / step) * step;

  let start = from;
  while (start + duration <= until) {
    const end = start + duration;
    const clash = busy.find((b) => b.start < end && b.end > start);
    if (clash === undefined && inHours(start)) {
      return {
        found: true,
        available: start === from,
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
        label: new Intl.DateTimeFormat(input.locale, {
          timeZone: input.timeZone,
          weekday: 'short',
          month: 'short',
          day: 'numeric',
          hour: 'numeric',
          minute: '2-digit',
        }).format(start),
      };
    }
    start = Math.max(alignUp(start + 1), clash === undefined ? 0 : alignUp(clash.end));
  }
  return { found: false, available: false };
}

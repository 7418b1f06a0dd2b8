import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTimeZone, nextFreeSlot, nextFreeSlotInput } from './next-free-slot';

const slot = (input: Record<string, unknown>) => nextFreeSlot(nextFreeSlotInput.parse(input));

// Tuesday 1 December 2026, 10:00 in New York (UTC-5).
const TUESDAY_10AM = '2026-12-01T15:00:00Z';
const NY = { timeZone: 'America/New_York' };
const OFFICE = { start: '09:00', end: '17:00' };

describe('nextFreeSlot', () => {
  it('takes the requested time when it is free', () => {
    expect(
      slot({ from: TUESDAY_10AM, until: '2026-12-02T15:00:00Z', durationMinutes: 30, ...NY }),
    ).toEqual({
      found: true,
      available: true,
      start: '2026-12-01T15:00:00.000Z',
      end: '2026-12-01T15:30:00.000Z',
      label: 'Tue, Dec 1, 10:00 AM',
    });
  });

  it('proposes the first aligned slot after a busy interval', () => {
    const result = slot({
      from: '2026-12-01T15:05:00Z',
      until: '2026-12-02T15:00:00Z',
      durationMinutes: 30,
      busy: [
        { start: '2026-12-01T15:00:00Z', end: '2026-12-01T15:50:00Z' },
        { start: '2026-12-01T16:20:00Z', end: '2026-12-01T17:00:00Z' },
      ],
      ...NY,
    });
    // 15:50 aligns to 16:00; 16:00–16:30 meets the next busy interval, so 17:00.
    expect(result).toMatchObject({
      found: true,
      available: false,
      start: '2026-12-01T17:00:00.000Z',
    });
  });

  it('treats back-to-back intervals as free', () => {
    const result = slot({
      from: TUESDAY_10AM,
      until: '2026-12-01T20:00:00Z',
      durationMinutes: 60,
      busy: [{ start: '2026-12-01T14:00:00Z', end: TUESDAY_10AM }],
    });
    expect(result).toMatchObject({ available: true, label: 'Tue, Dec 1, 3:00 PM' });
  });

  it('keeps inside working hours and working days, on the wall clock of the zone', () => {
    // Friday 4 December 2026, 16:45 New York: 30 minutes do not fit before 17:00.
    const result = slot({
      from: '2026-12-04T21:45:00Z',
      until: '2026-12-10T00:00:00Z',
      durationMinutes: 30,
      workingHours: OFFICE,
      ...NY,
    });
    // The weekend is skipped: Monday 7 December, 09:00 New York.
    expect(result).toMatchObject({
      available: false,
      start: '2026-12-07T14:00:00.000Z',
      label: 'Mon, Dec 7, 9:00 AM',
    });
  });

  it('honours custom working days and a day that ends at midnight', () => {
    const result = slot({
      from: '2026-12-05T23:00:00Z',
      until: '2026-12-08T00:00:00Z',
      durationMinutes: 60,
      workingHours: { start: '23:00', end: '24:00', days: [6] },
      locale: 'en-GB',
    });
    expect(result).toMatchObject({ available: true, label: 'Sat 5 Dec, 23:00' });
  });

  it('answers not found when nothing fits before until', () => {
    expect(
      slot({
        from: TUESDAY_10AM,
        until: '2026-12-01T16:00:00Z',
        durationMinutes: 30,
        busy: [{ start: '2026-12-01T14:00:00Z', end: '2026-12-01T16:00:00Z' }],
      }),
    ).toEqual({ found: false, available: false });
  });

  it.each([
    [{ until: TUESDAY_10AM }, 'until must be after from'],
    [{ until: '2027-01-15T00:00:00Z' }, 'must not exceed 31 days'],
    [{ timeZone: 'Mars/Olympus' }, 'must be an IANA time zone'],
    [{ locale: 'not a locale!' }, 'must be a BCP 47 locale'],
    [{ workingHours: { start: '9:00', end: '17:00' } }, 'must be HH:MM'],
    [{ durationMinutes: 2 }, 'Too small'],
  ])('refuses %j', (patch, message) => {
    const result = nextFreeSlotInput.safeParse({
      from: TUESDAY_10AM,
      until: '2026-12-05T00:00:00Z',
      durationMinutes: 30,
      ...patch,
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('Europe/Lisbon')).toBe(true);
    expect(isTimeZone('Nowhere/Special')).toBe(false);
  });

  it('never proposes a slot that overlaps a busy interval or leaves the window', () => {
    const base = Date.parse('2026-12-01T00:00:00Z');
    const interval = fc
      .tuple(fc.integer({ min: 0, max: 3 * 24 * 60 }), fc.integer({ min: 1, max: 300 }))
      .map(([start, length]) => ({
        start: new Date(base + start * 60_000).toISOString(),
        end: new Date(base + (start + length) * 60_000).toISOString(),
      }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 * 60 }),
        fc.integer({ min: 5, max: 240 }),
        fc.array(interval, { maxLength: 15 }),
        fc.boolean(),
        (fromMinute, duration, busy, office) => {
          const from = base + fromMinute * 60_000;
          const until = base + 4 * 24 * 3_600_000;
          const result = slot({
            from: new Date(from).toISOString(),
            until: new Date(until).toISOString(),
            durationMinutes: duration,
            busy,
            ...(office ? { workingHours: OFFICE, ...NY } : {}),
          });
          if (!result.found) return;
          const start = Date.parse(result.start);
          const end = Date.parse(result.end);
          expect(end - start).toBe(duration * 60_000);
          expect(start).toBeGreaterThanOrEqual(from);
          expect(end).toBeLessThanOrEqual(until);
          expect(result.available).toBe(start === from);
          for (const b of busy) {
            expect(Date.parse(b.start) < end && Date.parse(b.end) > start).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

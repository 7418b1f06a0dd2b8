import { ProviderError, type Attendee, type CalendarPort } from '@maxai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface CalendarContractSetup {
  calendar: CalendarPort;
  /** A calendar the adapter may book into (empty at start). */
  calendarId: string;
  /** An attendee the provider accepts (GoHighLevel: a contact). */
  attendee: Attendee;
  /** Marks the interval busy on the provider's side (not through the adapter). */
  seedBusy(calendarId: string, start: string, end: string): Promise<void>;
  teardown(): Promise<void>;
}

const sameInstant = (a: string, b: string) => expect(Date.parse(a)).toBe(Date.parse(b));

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/**
 * The CalendarPort contract. Each test uses its own day so that state left by one does not
 * touch another.
 */
export function runCalendarContract(
  label: string,
  setup: () => Promise<CalendarContractSetup>,
): void {
  describe(`CalendarPort contract: ${label}`, () => {
    let ctx: CalendarContractSetup;
    beforeAll(async () => {
      ctx = await setup();
    });
    afterAll(async () => {
      await ctx.teardown();
    });

    it('an event created at 09:00 America/New_York comes back as the same instant', async () => {
      const created = await ctx.calendar.createEvent({
        calendarId: ctx.calendarId,
        title: 'Discovery call',
        start: '2026-12-01T09:00:00-05:00',
        end: '2026-12-01T09:30:00-05:00',
        timeZone: 'America/New_York',
        attendees: [ctx.attendee],
        description: 'Booked by the AI employee',
      });
      expect(created.data).toMatchObject({
        calendarId: ctx.calendarId,
        title: 'Discovery call',
        timeZone: 'America/New_York',
        status: 'confirmed',
        start: '2026-12-01T09:00:00-05:00',
        end: '2026-12-01T09:30:00-05:00',
      });

      const listed = await ctx.calendar.listEvents({
        calendarId: ctx.calendarId,
        start: '2026-12-01T00:00:00Z',
        end: '2026-12-02T00:00:00Z',
        timeZone: 'Europe/Berlin',
      });
      const event = listed.data.find((e) => e.id === created.data.id);
      expect(event).toBeDefined();
      expect(event?.start).toBe('2026-12-01T15:00:00+01:00');
      sameInstant(event?.end ?? '', '2026-12-01T14:30:00Z');
      expect(event?.title).toBe('Discovery call');
      expect(event?.status).toBe('confirmed');
    });

    it('keeps the instant across daylight saving time (July in New York is UTC-4)', async () => {
      const created = await ctx.calendar.createEvent({
        calendarId: ctx.calendarId,
        title: 'Summer call',
        start: '2026-07-01T13:00:00Z',
        end: '2026-07-01T14:00:00Z',
        timeZone: 'America/New_York',
        attendees: [ctx.attendee],
      });
      expect(created.data.start).toBe('2026-07-01T09:00:00-04:00');
      const listed = await ctx.calendar.listEvents({
        calendarId: ctx.calendarId,
        start: '2026-07-01T00:00:00-04:00',
        end: '2026-07-02T00:00:00-04:00',
        timeZone: 'America/New_York',
      });
      expect(listed.data.map((e) => e.start)).toContain('2026-07-01T09:00:00-04:00');
    });

    it('freeBusy answers busy intervals (seeded and booked) in the requested zone', async () => {
      await ctx.seedBusy(ctx.calendarId, '2026-12-02T15:00:00Z', '2026-12-02T16:00:00Z');
      await ctx.calendar.createEvent({
        calendarId: ctx.calendarId,
        title: 'Booked',
        start: '2026-12-02T12:00:00-05:00',
        end: '2026-12-02T12:30:00-05:00',
        timeZone: 'America/New_York',
        attendees: [ctx.attendee],
      });
      const { data } = await ctx.calendar.freeBusy({
        calendarIds: [ctx.calendarId],
        start: '2026-12-02T00:00:00-05:00',
        end: '2026-12-03T00:00:00-05:00',
        timeZone: 'America/New_York',
      });
      const busy = data[ctx.calendarId] ?? [];
      expect(busy).toHaveLength(2);
      expect(busy[0]?.start).toBe('2026-12-02T10:00:00-05:00');
      expect(busy[0]?.end).toBe('2026-12-02T11:00:00-05:00');
      sameInstant(busy[1]?.start ?? '', '2026-12-02T17:00:00Z');
      sameInstant(busy[1]?.end ?? '', '2026-12-02T17:30:00Z');
    });

    it('freeBusy of a free day is empty', async () => {
      const { data } = await ctx.calendar.freeBusy({
        calendarIds: [ctx.calendarId],
        start: '2026-12-20T00:00:00Z',
        end: '2026-12-21T00:00:00Z',
        timeZone: 'UTC',
      });
      expect(data).toEqual({ [ctx.calendarId]: [] });
    });

    it('cancels: the event then shows as cancelled (or is gone) and is no longer busy', async () => {
      const created = await ctx.calendar.createEvent({
        calendarId: ctx.calendarId,
        title: 'To cancel',
        start: '2026-12-03T10:00:00-05:00',
        end: '2026-12-03T11:00:00-05:00',
        timeZone: 'America/New_York',
        attendees: [ctx.attendee],
      });
      const range = { start: '2026-12-03T00:00:00-05:00', end: '2026-12-04T00:00:00-05:00' };
      expect((await ctx.calendar.cancelEvent(ctx.calendarId, created.data.id)).data).toBeNull();
      const listed = await ctx.calendar.listEvents({ calendarId: ctx.calendarId, ...range });
      const event = listed.data.find((e) => e.id === created.data.id);
      if (event) expect(event.status).toBe('cancelled');
      const { data } = await ctx.calendar.freeBusy({
        calendarIds: [ctx.calendarId],
        ...range,
        timeZone: 'America/New_York',
      });
      expect(data[ctx.calendarId]).toEqual([]);
    });

    it('cancelling an unknown event is not_found', async () => {
      expect((await rejection(ctx.calendar.cancelEvent(ctx.calendarId, 'nosuchevent1'))).kind).toBe(
        'not_found',
      );
    });

    it('rejects an event ending before it starts as invalid', async () => {
      const error = await rejection(
        ctx.calendar.createEvent({
          calendarId: ctx.calendarId,
          title: 'Backwards',
          start: '2026-12-04T11:00:00Z',
          end: '2026-12-04T10:00:00Z',
          timeZone: 'UTC',
          attendees: [ctx.attendee],
        }),
      );
      expect(error.kind).toBe('invalid');
    });

    it('listing an unknown calendar is not_found', async () => {
      const error = await rejection(
        ctx.calendar.listEvents({
          calendarId: 'no-such-calendar',
          start: '2026-12-01T00:00:00Z',
          end: '2026-12-02T00:00:00Z',
        }),
      );
      expect(error.kind).toBe('not_found');
    });
  });
}

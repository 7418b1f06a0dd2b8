import { z } from 'zod';
import { portStep, type StepTypeSpec } from '../step-spec';
import { dateTime, nonEmpty, timeRange } from './input-schemas';
import { nextFreeSlot, nextFreeSlotInput } from './next-free-slot';

const timeZone = z.string().min(1).max(64);

const attendee = z.strictObject({
  email: z.email().optional(),
  phone: z.string().optional(),
  name: z.string().optional(),
  contactId: z.string().optional(),
});

const SAMPLE_EVENT = {
  id: 'event_sample',
  calendarId: 'primary',
  title: 'Appointment',
  start: '2026-12-01T15:00:00.000Z',
  end: '2026-12-01T15:30:00.000Z',
  timeZone: 'America/New_York',
  status: 'confirmed',
  attendees: [],
};

/** Calendar steps: one per CalendarPort method, and a pure slot finder. */
export const CALENDAR_STEPS = {
  'calendar.free_busy': portStep({
    summary: 'Busy intervals per calendar id within a range (an object keyed by calendar id).',
    port: 'calendar',
    method: 'freeBusy',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({
      start: dateTime,
      end: dateTime,
      calendarIds: z.array(nonEmpty).min(1).max(20),
      timeZone,
    }),
    sampleOutput: { primary: [] },
    call: (calendar, input, options) => calendar.freeBusy(input, options),
  }),
  'calendar.list_events': portStep({
    summary: "A calendar's events within a range.",
    port: 'calendar',
    method: 'listEvents',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({
      start: dateTime,
      end: dateTime,
      calendarId: nonEmpty,
      timeZone: timeZone.optional(),
    }),
    sampleOutput: [SAMPLE_EVENT],
    call: (calendar, input, options) => calendar.listEvents(input, options),
  }),
  'calendar.create_event': portStep({
    summary: 'Book an event (an appointment).',
    port: 'calendar',
    method: 'createEvent',
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({
      ...timeRange.shape,
      calendarId: nonEmpty,
      title: z.string().min(1).max(500),
      timeZone,
      attendees: z.array(attendee).max(50).optional(),
      description: z.string().max(10_000).optional(),
      location: z.string().max(1000).optional(),
    }),
    sampleOutput: SAMPLE_EVENT,
    call: (calendar, input, options) => calendar.createEvent(input, options),
  }),
  'calendar.cancel_event': portStep({
    summary: 'Cancel an event.',
    port: 'calendar',
    method: 'cancelEvent',
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({ calendarId: nonEmpty, eventId: nonEmpty }),
    sampleOutput: null,
    call: (calendar, input, options) =>
      calendar.cancelEvent(input.calendarId, input.eventId, options),
  }),
  'calendar.next_free_slot': {
    summary:
      'The first slot of the given length at or after `from`, clear of `busy`, inside working hours.',
    execution: 'pure',
    port: null,
    method: null,
    sideEffecting: false,
    costBearing: false,
    input: nextFreeSlotInput,
    sampleOutput: {
      found: true,
      available: true,
      start: '2026-12-01T15:00:00.000Z',
      end: '2026-12-01T15:30:00.000Z',
      label: 'Tue, Dec 1, 10:00 AM',
    },
    compute: (input) => nextFreeSlot(nextFreeSlotInput.parse(input)),
  } satisfies StepTypeSpec,
};

import type { CallOptions, PortResult } from './provider';

/** An interval; times are RFC 3339 with an offset (`2026-12-01T09:00:00-05:00`). */
export interface TimeRange {
  start: string;
  end: string;
}

export interface Attendee {
  email?: string | undefined;
  phone?: string | undefined;
  name?: string | undefined;
  /** The CRM contact, when the calendar knows contacts (GoHighLevel). */
  contactId?: string | undefined;
}

export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';

export interface CalendarEvent extends TimeRange {
  id: string;
  calendarId: string;
  title: string;
  /** IANA zone the event was booked in. */
  timeZone: string;
  status: EventStatus;
  attendees: Attendee[];
  description?: string | undefined;
  location?: string | undefined;
}

export interface EventInput extends TimeRange {
  calendarId: string;
  title: string;
  timeZone: string;
  attendees?: Attendee[] | undefined;
  description?: string | undefined;
  location?: string | undefined;
}

/** A calendar: availability and appointments (Google Calendar, GoHighLevel calendars). */
export interface CalendarPort {
  /** Busy intervals per calendar within the range. */
  freeBusy(
    query: TimeRange & { calendarIds: string[]; timeZone: string },
    options?: CallOptions,
  ): Promise<PortResult<Record<string, TimeRange[]>>>;
  listEvents(
    query: TimeRange & { calendarId: string; timeZone?: string | undefined },
    options?: CallOptions,
  ): Promise<PortResult<CalendarEvent[]>>;
  createEvent(input: EventInput, options?: CallOptions): Promise<PortResult<CalendarEvent>>;
  cancelEvent(
    calendarId: string,
    eventId: string,
    options?: CallOptions,
  ): Promise<PortResult<null>>;
}

import {
  ProviderError,
  type Attendee,
  type CalendarEvent,
  type CalendarPort,
  type CallOptions,
  type EventInput,
  type EventStatus,
  type PortResult,
  type TimeRange,
} from '@maxai/core';
import type { ProviderHttp } from '../http';
import { formatInZone } from '../zoned-time';
import { upsertBody } from './ghl-crm';
import {
  GHL_VERSION_CALENDARS,
  GHL_VERSION_CRM,
  ghlHttp,
  replaySafeKey,
  type GhlAdapterOptions,
  type GhlContactBody,
} from './ghl-http';

/** An appointment or blocked slot as GET /calendars/events and /calendars/blocked-slots list it. */
interface GhlEventBody {
  id: string;
  calendarId: string;
  contactId?: string | null;
  title?: string | null;
  startTime: string;
  endTime: string;
  appointmentStatus?: string | null;
  address?: string | null;
  notes?: string | null;
}

/**
 * GoHighLevel appointment statuses (`new`, `confirmed`, `cancelled`, `showed`, `noshow`,
 * `invalid`; docs/ghl/calendars/create-appointment) as our event status.
 */
export function eventStatusFromGhl(status: string | null | undefined): EventStatus {
  if (status === 'cancelled' || status === 'invalid') return 'cancelled';
  if (status === 'new') return 'tentative';
  return 'confirmed';
}

/**
 * CalendarPort on GoHighLevel calendars (Version 2021-04-15). Busy time is the calendar's
 * appointments (not cancelled) plus its blocked slots; appointments need a contact, so an
 * attendee without `contactId` is upserted as one (by email or phone) first.
 */
export class GhlCalendar implements CalendarPort {
  private readonly http: ProviderHttp;
  private readonly contactsHttp: ProviderHttp;

  constructor(private readonly options: GhlAdapterOptions) {
    this.http = ghlHttp(options, GHL_VERSION_CALENDARS);
    this.contactsHttp = ghlHttp(options, GHL_VERSION_CRM);
  }

  async freeBusy(
    query: TimeRange & { calendarIds: string[]; timeZone: string },
    options?: CallOptions,
  ): Promise<PortResult<Record<string, TimeRange[]>>> {
    const from = Date.parse(query.start);
    const to = Date.parse(query.end);
    const result: Record<string, TimeRange[]> = {};
    for (const calendarId of query.calendarIds) {
      const [appointments, blocked] = await Promise.all([
        this.list('/calendars/events', calendarId, from, to, options),
        this.list('/calendars/blocked-slots', calendarId, from, to, options),
      ]);
      result[calendarId] = [...appointments, ...blocked]
        .filter((e) => eventStatusFromGhl(e.appointmentStatus) !== 'cancelled')
        .map((e) => ({
          from: Math.max(Date.parse(e.startTime), from),
          to: Math.min(Date.parse(e.endTime), to),
        }))
        .sort((a, b) => a.from - b.from)
        .map((b) => ({
          start: formatInZone(b.from, query.timeZone, 'gohighlevel'),
          end: formatInZone(b.to, query.timeZone, 'gohighlevel'),
        }));
    }
    return { data: result };
  }

  async listEvents(
    query: TimeRange & { calendarId: string; timeZone?: string | undefined },
    options?: CallOptions,
  ): Promise<PortResult<CalendarEvent[]>> {
    const events = await this.list(
      '/calendars/events',
      query.calendarId,
      Date.parse(query.start),
      Date.parse(query.end),
      options,
    );
    const zone = query.timeZone ?? 'UTC';
    return {
      data: events.map((e) =>
        this.toEvent(e, zone, e.contactId ? [{ contactId: e.contactId }] : []),
      ),
    };
  }

  /** POST /calendars/events/appointments (docs/ghl/calendars/create-appointment). */
  async createEvent(input: EventInput, options?: CallOptions): Promise<PortResult<CalendarEvent>> {
    const attendees = input.attendees ?? [];
    const { contactId, attendee } = await this.contactFor(attendees, options);
    const res = await this.http.request<GhlEventBody>('POST', '/calendars/events/appointments', {
      json: {
        calendarId: input.calendarId,
        locationId: this.options.locationId,
        contactId,
        startTime: formatInZone(input.start, input.timeZone, 'gohighlevel'),
        endTime: formatInZone(input.end, input.timeZone, 'gohighlevel'),
        title: input.title,
        appointmentStatus: 'confirmed',
        address: input.location,
        description: input.description,
        toNotify: false,
      },
      idempotencyKey: options?.idempotencyKey,
      signal: options?.signal,
    });
    const withContact = attendees.map((a) => (a === attendee ? { ...a, contactId } : a));
    return { data: this.toEvent(res.body, input.timeZone, withContact, input.description) };
  }

  /** Cancels by status (PUT …/appointments/{id}); the appointment stays, `cancelled`. */
  async cancelEvent(
    _calendarId: string,
    eventId: string,
    options?: CallOptions,
  ): Promise<PortResult<null>> {
    await this.http.request(
      'PUT',
      `/calendars/events/appointments/${encodeURIComponent(eventId)}`,
      {
        json: { appointmentStatus: 'cancelled' },
        signal: options?.signal,
      },
    );
    return { data: null };
  }

  private async list(
    path: string,
    calendarId: string,
    from: number,
    to: number,
    options: CallOptions | undefined,
  ): Promise<GhlEventBody[]> {
    const res = await this.http.request<{ events: GhlEventBody[] }>('GET', path, {
      query: { locationId: this.options.locationId, calendarId, startTime: from, endTime: to },
      signal: options?.signal,
    });
    return res.body.events;
  }

  /** The attendee the appointment is for, and its GoHighLevel contact. */
  private async contactFor(
    attendees: Attendee[],
    options?: CallOptions,
  ): Promise<{ contactId: string; attendee: Attendee }> {
    const known = attendees.find((a) => a.contactId);
    if (known?.contactId) return { contactId: known.contactId, attendee: known };
    const person = attendees.find((a) => a.email ?? a.phone);
    if (!person) {
      throw new ProviderError({
        kind: 'invalid',
        provider: 'gohighlevel',
        message: 'a GoHighLevel appointment needs an attendee with a contactId, email or phone',
      });
    }
    const res = await this.contactsHttp.request<{ contact: GhlContactBody }>(
      'POST',
      '/contacts/upsert',
      {
        json: upsertBody(this.options.locationId, {
          email: person.email,
          phone: person.phone,
          name: person.name,
        }),
        idempotencyKey: replaySafeKey(undefined),
        signal: options?.signal,
      },
    );
    return { contactId: res.body.contact.id, attendee: person };
  }

  private toEvent(
    body: GhlEventBody,
    timeZone: string,
    attendees: Attendee[],
    description?: string,
  ): CalendarEvent {
    return {
      id: body.id,
      calendarId: body.calendarId,
      title: body.title ?? '',
      start: formatInZone(body.startTime, timeZone, 'gohighlevel'),
      end: formatInZone(body.endTime, timeZone, 'gohighlevel'),
      timeZone,
      status: eventStatusFromGhl(body.appointmentStatus),
      attendees,
      description: body.notes ?? description,
      location: body.address ?? undefined,
    };
  }
}

import { createHash, randomUUID } from 'node:crypto';
import {
  ProviderError,
  type CalendarEvent,
  type CalendarPort,
  type CallOptions,
  type EventInput,
  type PortResult,
  type TimeRange,
} from '@maxai/core';
import { ProviderHttp } from '../http';
import type { AccessTokenSource } from '../oauth';
import { formatInZone } from '../zoned-time';

export interface GoogleCalendarOptions {
  /** `https://www.googleapis.com`, or the simulator's `/google`. */
  baseUrl: string;
  accessToken: AccessTokenSource;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  retryBaseMs?: number | undefined;
  /** Google's `sendUpdates` on insert and delete (default `none`: the platform notifies). */
  sendUpdates?: 'all' | 'externalOnly' | 'none' | undefined;
  fetch?: typeof fetch | undefined;
}

interface EventTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}
interface GoogleEventBody {
  id: string;
  status?: string;
  summary?: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  attendees?: { email?: string; displayName?: string }[];
}

/**
 * Google's error body `{"error": {code, message, errors: [{domain, reason, message}], status}}`
 * (developers.google.com/calendar/api/guides/errors): the first `reason` (e.g. `notFound`,
 * `rateLimitExceeded`, `authError`) is the provider code.
 */
export function describeGoogleError(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return { code: error }; // OAuth endpoints: {error, error_description}
  if (typeof error !== 'object' || error === null) return {};
  const { message, errors, status } = error as {
    message?: unknown;
    errors?: { reason?: unknown }[];
    status?: unknown;
  };
  const reason = errors?.[0]?.reason;
  const code = typeof reason === 'string' ? reason : status;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/** An event id from an idempotency key: base32hex (a–v, 0–9), as events.insert accepts. */
export function eventIdFor(idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest();
  return [...digest].map((b) => '0123456789abcdefghijklmnopqrstuv'.charAt(b % 32)).join('');
}

/** `dateTime`, or an all-day `date` read as midnight in the zone's UTC. */
function instantOf(time: EventTime): string {
  return time.dateTime ?? `${time.date ?? '1970-01-01'}T00:00:00Z`;
}

/**
 * CalendarPort on Google Calendar API v3 over fetch (developers.google.com/calendar/api/v3/reference):
 * freeBusy.query, events.list (single events, cancelled ones included), events.insert (an
 * idempotency key becomes the event id, so a replayed insert answers 409 and the first event is
 * returned), events.delete (Google keeps the event with status `cancelled`).
 */
export class GoogleCalendar implements CalendarPort {
  private readonly http: ProviderHttp;

  constructor(private readonly options: GoogleCalendarOptions) {
    this.http = new ProviderHttp({
      provider: 'google',
      baseUrl: options.baseUrl,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      headers: async () => ({ authorization: `Bearer ${await options.accessToken()}` }),
      describeError: describeGoogleError,
    });
  }

  /** POST /calendar/v3/freeBusy; a per-calendar error inside the 200 fails the call. */
  async freeBusy(
    query: TimeRange & { calendarIds: string[]; timeZone: string },
    options?: CallOptions,
  ): Promise<PortResult<Record<string, TimeRange[]>>> {
    const res = await this.http.request<{
      calendars: Record<string, { busy?: TimeRange[]; errors?: { reason?: string }[] }>;
    }>('POST', '/calendar/v3/freeBusy', {
      json: {
        timeMin: query.start,
        timeMax: query.end,
        timeZone: query.timeZone,
        items: query.calendarIds.map((id) => ({ id })),
      },
      // A read: safe to replay.
      idempotencyKey: options?.idempotencyKey ?? `freebusy-${randomUUID()}`,
      signal: options?.signal,
    });
    const result: Record<string, TimeRange[]> = {};
    for (const id of query.calendarIds) {
      const entry = res.body.calendars[id];
      const reason = entry?.errors?.[0]?.reason;
      if (!entry || reason !== undefined) {
        throw new ProviderError({
          kind: reason === 'notFound' || !entry ? 'not_found' : 'invalid',
          provider: 'google',
          status: res.status,
          providerCode: reason,
          message: `google freeBusy: calendar ${reason ?? 'missing from the answer'}`,
        });
      }
      result[id] = (entry.busy ?? []).map((b) => ({
        start: formatInZone(b.start, query.timeZone, 'google'),
        end: formatInZone(b.end, query.timeZone, 'google'),
      }));
    }
    return { data: result };
  }

  async listEvents(
    query: TimeRange & { calendarId: string; timeZone?: string | undefined },
    options?: CallOptions,
  ): Promise<PortResult<CalendarEvent[]>> {
    const res = await this.http.request<{ timeZone?: string; items?: GoogleEventBody[] }>(
      'GET',
      `/calendar/v3/calendars/${encodeURIComponent(query.calendarId)}/events`,
      {
        query: {
          timeMin: query.start,
          timeMax: query.end,
          timeZone: query.timeZone,
          singleEvents: true,
          orderBy: 'startTime',
          showDeleted: true,
          maxResults: 2500,
        },
        signal: options?.signal,
      },
    );
    const zone = query.timeZone ?? res.body.timeZone ?? 'UTC';
    return {
      data: (res.body.items ?? []).map((e) => this.toEvent(e, query.calendarId, zone)),
    };
  }

  async createEvent(input: EventInput, options?: CallOptions): Promise<PortResult<CalendarEvent>> {
    const path = `/calendar/v3/calendars/${encodeURIComponent(input.calendarId)}/events`;
    const id = options?.idempotencyKey ? eventIdFor(options.idempotencyKey) : undefined;
    try {
      const res = await this.http.request<GoogleEventBody>('POST', path, {
        query: { sendUpdates: this.options.sendUpdates ?? 'none' },
        json: {
          id,
          summary: input.title,
          description: input.description,
          location: input.location,
          start: {
            dateTime: formatInZone(input.start, input.timeZone, 'google'),
            timeZone: input.timeZone,
          },
          end: {
            dateTime: formatInZone(input.end, input.timeZone, 'google'),
            timeZone: input.timeZone,
          },
          attendees: (input.attendees ?? [])
            .filter((a) => a.email)
            .map((a) => ({ email: a.email, displayName: a.name })),
        },
        idempotencyKey: options?.idempotencyKey,
        signal: options?.signal,
      });
      return { data: this.toEvent(res.body, input.calendarId, input.timeZone) };
    } catch (error) {
      // The same key inserted before (a replay after a lost answer): answer that event.
      if (!(id && error instanceof ProviderError && error.status === 409)) throw error;
      const res = await this.http.request<GoogleEventBody>('GET', `${path}/${id}`, {
        query: { timeZone: input.timeZone },
        signal: options?.signal,
      });
      return { data: this.toEvent(res.body, input.calendarId, input.timeZone) };
    }
  }

  /** DELETE …/events/{id} (204); an already deleted event (410) counts as cancelled. */
  async cancelEvent(
    calendarId: string,
    eventId: string,
    options?: CallOptions,
  ): Promise<PortResult<null>> {
    try {
      await this.http.request(
        'DELETE',
        `/calendar/v3/calendars/${encodeURIComponent(calendarId)}/events/${encodeURIComponent(eventId)}`,
        { query: { sendUpdates: this.options.sendUpdates ?? 'none' }, signal: options?.signal },
      );
    } catch (error) {
      if (!(error instanceof ProviderError && error.status === 410)) throw error;
    }
    return { data: null };
  }

  private toEvent(body: GoogleEventBody, calendarId: string, zone: string): CalendarEvent {
    const status =
      body.status === 'cancelled' || body.status === 'tentative' ? body.status : 'confirmed';
    return {
      id: body.id,
      calendarId,
      title: body.summary ?? '',
      start: formatInZone(instantOf(body.start), zone, 'google'),
      end: formatInZone(instantOf(body.end), zone, 'google'),
      timeZone: body.start.timeZone ?? zone,
      status,
      attendees: (body.attendees ?? []).map((a) => ({ email: a.email, name: a.displayName })),
      description: body.description,
      location: body.location,
    };
  }
}

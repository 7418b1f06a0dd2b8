import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorContext, VendorSimulator } from '../server';
import { fields, formatInZone, isTimeZone, scalar, text } from '../zoned-time';

/**
 * Google OAuth 2.0 and Calendar API v3, under `/google`:
 * - authorize `GET /o/oauth2/v2/auth` (accounts.google.com) redirects straight back with
 *   `code` and `state`; PKCE S256 is checked at `POST /token` (oauth2.googleapis.com/token,
 *   RFC 7636 §4.6); errors are `{"error": "invalid_grant", "error_description": …}`
 *   (developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code);
 * - Calendar under `/calendar/v3` (developers.google.com/calendar/api/v3/reference): freeBusy,
 *   events list/insert/delete; errors `{"error": {code, message, errors: [{domain, reason,
 *   message}], status}}` (developers.google.com/calendar/api/guides/errors).
 */

export const GOOGLE_SANDBOX_CLIENT = {
  clientId: 'google-client-sandbox.apps.googleusercontent.com',
  clientSecret: 'google-secret-sandbox',
};
export const GOOGLE_SANDBOX_CALENDAR = 'sandbox@example.com';

const ACCESS_TTL_S = 3599;

interface AuthCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  offline: boolean;
  codeChallenge?: string | undefined;
  used: boolean;
}
interface GoogleEvent {
  id: string;
  calendarId: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  summary: string;
  description?: string | undefined;
  location?: string | undefined;
  startMs: number;
  endMs: number;
  timeZone: string;
  attendees: { email: string; displayName?: string | undefined }[];
  created: string;
  updated: string;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const REASONS: Record<number, string> = {
  400: 'badRequest',
  401: 'authError',
  403: 'forbidden',
  404: 'notFound',
  409: 'duplicate',
  410: 'deleted',
  429: 'rateLimitExceeded',
  500: 'backendError',
  503: 'backendError',
};

/** Google's JSON error body (developers.google.com/calendar/api/guides/errors). */
export function googleErrorBody(
  code: number,
  message: string,
  reason = REASONS[code] ?? 'unknown',
) {
  return {
    error: {
      code,
      message,
      errors: [{ domain: 'global', reason, message }],
      status: STATUS_NAMES[code] ?? 'UNKNOWN',
    },
  };
}

const base32hex = (bytes: Buffer): string =>
  [...bytes].map((b) => '0123456789abcdefghijklmnopqrstuv'[b % 32]).join('');

export function googleSimulator(): VendorSimulator {
  const clients = new Map<string, string>();
  const codes = new Map<string, AuthCode>();
  const accessTokens = new Map<string, { scope: string; expiresAt: number }>();
  const refreshTokens = new Map<string, { clientId: string; scope: string }>();
  const consented = new Set<string>(); // clientId: a refresh token only on first consent
  const calendars = new Map<string, { id: string; timeZone: string }>();
  const events = new Map<string, GoogleEvent>(); // `${calendarId}/${eventId}`

  const reset = (): void => {
    for (const map of [clients, codes, accessTokens, refreshTokens, calendars, events]) map.clear();
    consented.clear();
    clients.set(GOOGLE_SANDBOX_CLIENT.clientId, GOOGLE_SANDBOX_CLIENT.clientSecret);
    calendars.set(GOOGLE_SANDBOX_CALENDAR, {
      id: GOOGLE_SANDBOX_CALENDAR,
      timeZone: 'America/New_York',
    });
  };
  reset();

  const mintAccess = (scope: string): string => {
    const token = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
    accessTokens.set(token, { scope, expiresAt: Date.now() + ACCESS_TTL_S * 1000 });
    return token;
  };

  const fail = (reply: FastifyReply, code: number, message: string, reason?: string) =>
    reply.code(code).send(googleErrorBody(code, message, reason));

  const authorized = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : accessTokens.get(token);
    if (!grant || grant.expiresAt <= Date.now()) {
      void fail(
        reply,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'authError',
      );
      return false;
    }
    return true;
  };

  /** `primary` is the sandbox account's own calendar. */
  const calendarOf = (id: string) => calendars.get(id === 'primary' ? GOOGLE_SANDBOX_CALENDAR : id);

  const render = (event: GoogleEvent, zone?: string) => {
    const tz = zone ?? event.timeZone;
    return {
      kind: 'calendar#event',
      etag: `"${String(Date.parse(event.updated))}"`,
      id: event.id,
      status: event.status,
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${event.id} ${event.calendarId}`).toString('base64url')}`,
      created: event.created,
      updated: event.updated,
      summary: event.summary,
      description: event.description,
      location: event.location,
      start: { dateTime: formatInZone(event.startMs, tz), timeZone: event.timeZone },
      end: { dateTime: formatInZone(event.endMs, tz), timeZone: event.timeZone },
      attendees: event.attendees.map((a) => ({ ...a, responseStatus: 'needsAction' })),
      iCalUID: `${event.id}@google.com`,
    };
  };

  /** `{dateTime, timeZone}`: a dateTime without an offset is read in `timeZone`. */
  const instantOf = (value: unknown): { ms: number; timeZone?: string } | undefined => {
    const v = fields(value);
    const dateTime = text(v.dateTime);
    const timeZone = text(v.timeZone);
    if (!dateTime) return undefined;
    if (timeZone !== undefined && !isTimeZone(timeZone)) return undefined;
    if (/(Z|[+-]\d\d:\d\d)$/.test(dateTime)) {
      const ms = Date.parse(dateTime);
      return Number.isNaN(ms) ? undefined : { ms, timeZone };
    }
    if (!timeZone) return undefined;
    // Local wall time in the zone: find the offset at that instant (two passes for DST edges).
    const asUtc = Date.parse(`${dateTime}Z`);
    if (Number.isNaN(asUtc)) return undefined;
    let ms = asUtc;
    for (let i = 0; i < 2; i += 1) {
      const shown = Date.parse(formatInZone(ms, timeZone).slice(0, 19) + 'Z');
      ms = asUtc - (shown - ms);
    }
    return { ms, timeZone };
  };

  return {
    prefix: 'google',
    errorBody: (status, message) => googleErrorBody(status, message),
    reset,

    // eslint-disable-next-line @typescript-eslint/require-await
    async api(app: FastifyInstance) {
      // --- OAuth ------------------------------------------------------------------------------
      app.get('/o/oauth2/v2/auth', (request, reply) => {
        const q = fields(request.query);
        const clientId = text(q.client_id);
        const redirectUri = text(q.redirect_uri);
        if (!clientId || !clients.has(clientId) || !redirectUri) {
          return reply.code(400).send({
            error: 'invalid_request',
            error_description: 'Invalid client or redirect_uri',
          });
        }
        const target = new URL(redirectUri);
        const state = text(q.state);
        if (state) target.searchParams.set('state', state);
        if (q.response_type !== 'code') {
          target.searchParams.set('error', 'unsupported_response_type');
          return reply.redirect(target.toString(), 302);
        }
        const challenge = text(q.code_challenge);
        if (challenge && q.code_challenge_method !== 'S256') {
          target.searchParams.set('error', 'invalid_request');
          return reply.redirect(target.toString(), 302);
        }
        const code = `4/sandbox-${randomBytes(16).toString('base64url')}`;
        const offline =
          q.access_type === 'offline' && (q.prompt === 'consent' || !consented.has(clientId));
        consented.add(clientId);
        codes.set(code, {
          clientId,
          redirectUri,
          scope: scalar(q.scope),
          offline,
          codeChallenge: challenge,
          used: false,
        });
        target.searchParams.set('code', code);
        target.searchParams.set('scope', scalar(q.scope));
        return reply.redirect(target.toString(), 302);
      });

      app.post('/token', (request, reply) => {
        const form = fields(request.body);
        const clientId = text(form.client_id);
        if (!clientId || clients.get(clientId) !== text(form.client_secret)) {
          return reply.code(401).send({
            error: 'invalid_client',
            error_description: 'The OAuth client was not found.',
          });
        }
        const invalidGrant = (description: string) =>
          reply.code(400).send({ error: 'invalid_grant', error_description: description });
        if (form.grant_type === 'authorization_code') {
          const code = codes.get(scalar(form.code));
          if (!code || code.used || code.clientId !== clientId)
            return invalidGrant('Malformed auth code.');
          if (text(form.redirect_uri) !== code.redirectUri) {
            return reply
              .code(400)
              .send({ error: 'redirect_uri_mismatch', error_description: 'Bad Request' });
          }
          if (code.codeChallenge !== undefined) {
            const verifier = text(form.code_verifier);
            if (!verifier) return invalidGrant('Missing code verifier.');
            const computed = createHash('sha256').update(verifier).digest('base64url');
            if (computed !== code.codeChallenge) return invalidGrant('Invalid code verifier.');
          }
          code.used = true;
          const refreshToken = code.offline
            ? `1//sandbox-${randomBytes(24).toString('base64url')}`
            : undefined;
          if (refreshToken) refreshTokens.set(refreshToken, { clientId, scope: code.scope });
          return {
            access_token: mintAccess(code.scope),
            expires_in: ACCESS_TTL_S,
            ...(refreshToken ? { refresh_token: refreshToken } : {}),
            scope: code.scope,
            token_type: 'Bearer',
          };
        }
        if (form.grant_type === 'refresh_token') {
          const refresh = refreshTokens.get(scalar(form.refresh_token));
          if (refresh?.clientId !== clientId) {
            return invalidGrant('Token has been expired or revoked.');
          }
          // Google keeps the refresh token (no rotation): the answer has no new one.
          return {
            access_token: mintAccess(refresh.scope),
            expires_in: ACCESS_TTL_S,
            scope: refresh.scope,
            token_type: 'Bearer',
          };
        }
        return reply.code(400).send({
          error: 'unsupported_grant_type',
          error_description: `Invalid grant_type: ${scalar(form.grant_type)}`,
        });
      });

      // --- Calendar v3 --------------------------------------------------------------------------
      app.post('/calendar/v3/freeBusy', (request, reply) => {
        if (!authorized(request, reply)) return reply;
        const body = fields(request.body);
        const timeMin = Date.parse(scalar(body.timeMin));
        const timeMax = Date.parse(scalar(body.timeMax));
        if (Number.isNaN(timeMin) || Number.isNaN(timeMax)) {
          return fail(reply, 400, 'Bad Request', 'badRequest');
        }
        if (timeMax <= timeMin)
          return fail(reply, 400, 'The specified time range is empty.', 'timeRangeEmpty');
        const zone = text(body.timeZone) ?? 'UTC';
        const items = Array.isArray(body.items) ? body.items.map(fields) : [];
        const result: Record<string, unknown> = {};
        for (const item of items) {
          const id = scalar(item.id);
          const calendar = calendarOf(id);
          if (!calendar) {
            // Per-calendar errors come inside a 200 (calendar/api/v3/reference/freebusy/query).
            result[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
            continue;
          }
          const busy = [...events.values()]
            .filter(
              (e) =>
                e.calendarId === calendar.id &&
                e.status !== 'cancelled' &&
                e.startMs < timeMax &&
                e.endMs > timeMin,
            )
            .sort((a, b) => a.startMs - b.startMs)
            .map((e) => ({
              start: formatInZone(Math.max(e.startMs, timeMin), zone),
              end: formatInZone(Math.min(e.endMs, timeMax), zone),
            }));
          result[id] = { busy };
        }
        return {
          kind: 'calendar#freeBusy',
          timeMin: new Date(timeMin).toISOString(),
          timeMax: new Date(timeMax).toISOString(),
          calendars: result,
        };
      });

      app.get<{ Params: { calendarId: string } }>(
        '/calendar/v3/calendars/:calendarId/events',
        (request, reply) => {
          if (!authorized(request, reply)) return reply;
          const calendar = calendarOf(request.params.calendarId);
          if (!calendar) return fail(reply, 404, 'Not Found');
          const q = fields(request.query);
          const timeMin = q.timeMin === undefined ? -Infinity : Date.parse(scalar(q.timeMin));
          const timeMax = q.timeMax === undefined ? Infinity : Date.parse(scalar(q.timeMax));
          const zone = text(q.timeZone);
          if (Number.isNaN(timeMin) || Number.isNaN(timeMax) || (zone && !isTimeZone(zone))) {
            return fail(reply, 400, 'Bad Request', 'badRequest');
          }
          // Cancelled events are listed only with showDeleted=true (events/list).
          const showDeleted = q.showDeleted === 'true';
          const items = [...events.values()]
            .filter(
              (e) =>
                e.calendarId === calendar.id &&
                (showDeleted || e.status !== 'cancelled') &&
                e.startMs < timeMax &&
                e.endMs > timeMin,
            )
            .sort((a, b) => a.startMs - b.startMs)
            .map((e) => render(e, zone));
          return {
            kind: 'calendar#events',
            summary: calendar.id,
            timeZone: zone ?? calendar.timeZone,
            updated: new Date().toISOString(),
            items,
          };
        },
      );

      app.post<{ Params: { calendarId: string } }>(
        '/calendar/v3/calendars/:calendarId/events',
        (request, reply) => {
          if (!authorized(request, reply)) return reply;
          const calendar = calendarOf(request.params.calendarId);
          if (!calendar) return fail(reply, 404, 'Not Found');
          const body = fields(request.body);
          const start = instantOf(body.start);
          const end = instantOf(body.end);
          if (!start) return fail(reply, 400, 'Missing start time.', 'required');
          if (!end) return fail(reply, 400, 'Missing end time.', 'required');
          if (end.ms <= start.ms) {
            return fail(reply, 400, 'The specified time range is empty.', 'timeRangeEmpty');
          }
          // A client-chosen id (base32hex, 5–1024 chars) makes inserts idempotent: 409 on reuse.
          const id = text(body.id) ?? base32hex(randomBytes(26));
          if (!/^[a-v0-9]{5,1024}$/.test(id))
            return fail(reply, 400, 'Invalid resource id value.', 'invalid');
          const key = `${calendar.id}/${id}`;
          if (events.has(key))
            return fail(reply, 409, 'The requested identifier already exists.', 'duplicate');
          const now = new Date().toISOString();
          const attendees = Array.isArray(body.attendees)
            ? body.attendees.map(fields).flatMap((a) => {
                const email = text(a.email);
                return email ? [{ email, displayName: text(a.displayName) }] : [];
              })
            : [];
          const event: GoogleEvent = {
            id,
            calendarId: calendar.id,
            status: body.status === 'tentative' ? 'tentative' : 'confirmed',
            summary: scalar(body.summary),
            description: text(body.description),
            location: text(body.location),
            startMs: start.ms,
            endMs: end.ms,
            timeZone: start.timeZone ?? calendar.timeZone,
            attendees,
            created: now,
            updated: now,
          };
          events.set(key, event);
          return render(event);
        },
      );

      app.get<{ Params: { calendarId: string; eventId: string } }>(
        '/calendar/v3/calendars/:calendarId/events/:eventId',
        (request, reply) => {
          if (!authorized(request, reply)) return reply;
          const calendar = calendarOf(request.params.calendarId);
          const event = calendar && events.get(`${calendar.id}/${request.params.eventId}`);
          if (!event) return fail(reply, 404, 'Not Found');
          return render(event, text(fields(request.query).timeZone));
        },
      );

      app.delete<{ Params: { calendarId: string; eventId: string } }>(
        '/calendar/v3/calendars/:calendarId/events/:eventId',
        (request, reply) => {
          if (!authorized(request, reply)) return reply;
          const calendar = calendarOf(request.params.calendarId);
          const event = calendar && events.get(`${calendar.id}/${request.params.eventId}`);
          if (!event) return fail(reply, 404, 'Not Found');
          if (event.status === 'cancelled') return fail(reply, 410, 'Resource has been deleted');
          event.status = 'cancelled';
          event.updated = new Date().toISOString();
          return reply.code(204).send();
        },
      );
    },

    // eslint-disable-next-line @typescript-eslint/require-await
    async control(app: FastifyInstance, context: SimulatorContext) {
      /** Mints an access token without the OAuth dance. */
      app.post('/tokens', (request, reply) => {
        const scope =
          text(fields(request.body).scope) ?? 'https://www.googleapis.com/auth/calendar';
        return reply.code(201).send({ access_token: mintAccess(scope), expires_in: ACCESS_TTL_S });
      });

      app.post('/tokens/expire', (request, reply) => {
        const token = accessTokens.get(scalar(fields(request.body).accessToken));
        if (!token) return reply.code(404).send({ error: 'unknown token' });
        token.expiresAt = 0;
        return { expired: true };
      });

      app.post('/calendars', (request, reply) => {
        const body = fields(request.body);
        const id =
          text(body.id) ?? `cal-${randomBytes(6).toString('hex')}@group.calendar.google.com`;
        const calendar = { id, timeZone: text(body.timeZone) ?? 'UTC' };
        calendars.set(id, calendar);
        return reply.code(201).send(calendar);
      });

      /** Seeds a busy event: `{calendarId?, start, end, summary?}` (RFC 3339 with offsets). */
      app.post('/busy', (request, reply) => {
        const body = fields(request.body);
        const calendar = calendarOf(text(body.calendarId) ?? 'primary');
        const startMs = Date.parse(scalar(body.start));
        const endMs = Date.parse(scalar(body.end));
        if (!calendar || Number.isNaN(startMs) || Number.isNaN(endMs)) {
          return reply.code(400).send({ error: 'calendarId, start and end required' });
        }
        const now = new Date().toISOString();
        const event: GoogleEvent = {
          id: base32hex(randomBytes(26)),
          calendarId: calendar.id,
          status: 'confirmed',
          summary: text(body.summary) ?? 'Busy',
          startMs,
          endMs,
          timeZone: calendar.timeZone,
          attendees: [],
          created: now,
          updated: now,
        };
        events.set(`${calendar.id}/${event.id}`, event);
        return reply.code(201).send(render(event));
      });

      /**
       * Sends a push notification as Calendar does for a watched resource: an empty-body POST
       * with the `X-Goog-*` headers (calendar/api/guides/push#understanding-the-notification-message-format).
       */
      app.post('/push', async (request, reply) => {
        const body = fields(request.body);
        const channelId = text(body.channelId);
        const resourceId = text(body.resourceId);
        if (!channelId || !resourceId) {
          return reply.code(400).send({ error: 'channelId and resourceId required' });
        }
        const headers: Record<string, string> = {
          'x-goog-channel-id': channelId,
          'x-goog-resource-id': resourceId,
          'x-goog-resource-state': text(body.resourceState) ?? 'exists',
          'x-goog-message-number': scalar(body.messageNumber ?? 1),
          'x-goog-resource-uri':
            text(body.resourceUri) ??
            `https://www.googleapis.com/calendar/v3/calendars/${encodeURIComponent(GOOGLE_SANDBOX_CALENDAR)}/events?alt=json`,
        };
        const token = text(body.channelToken);
        if (token) headers['x-goog-channel-token'] = token;
        const expiration = text(body.channelExpiration);
        if (expiration) headers['x-goog-channel-expiration'] = expiration;
        const url = text(body.url) ?? `${context.publicUrl}/webhooks/google`;
        const sent = await context.webhooks.send('google', url, '', headers);
        return reply.code(201).send(sent);
      });
    },
  };
}

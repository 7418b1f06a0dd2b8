import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorContext, VendorSimulator } from '../server';
import { fields, formatInZone, scalar, text } from '../zoned-time';
import {
  generateGhlWebhookKeys,
  publicKeyPem,
  signGhlWebhook,
  type GhlWebhookKeys,
} from './ghl-signatures';

/**
 * GoHighLevel / LeadConnector API v2 (https://services.leadconnectorhq.com) and the marketplace
 * OAuth, under `/ghl`. Shapes follow marketplace.gohighlevel.com/docs (GoHighLevel/highlevel-api-docs):
 * - errors are NestJS-style `{statusCode, message, error?}`; a missing `Version` header answers
 *   401 "version header was not found." and an unpublished one "version header is invalid";
 * - an invalid or expired token answers 401 "Invalid token: access token is invalid"
 *   (docs/ghl/conversations/get-message, Unauthorized example);
 * - OAuth: `POST /oauth/token` (form) with one-time refresh tokens; `POST /oauth/locationToken`
 *   (form `companyId`, `locationId`, Company token) — docs/ghl/oauth/get-access-token,
 *   docs/ghl/oauth/get-location-access-token.
 */

export const GHL_SANDBOX_CLIENT = {
  clientId: 'ghl_client_sandbox',
  clientSecret: 'ghl_secret_sandbox',
};
export const GHL_SANDBOX_COMPANY = 'comp_sandbox';
export const GHL_SANDBOX_LOCATION = 'loc_sandbox';
export const GHL_SANDBOX_LOCATION_2 = 'loc_sandbox_2';

const VERSIONS = new Set(['2021-07-28', '2021-04-15', '2023-02-21']);
const OPPORTUNITY_STATUSES = new Set(['open', 'won', 'lost', 'abandoned']);
const APPOINTMENT_STATUSES = new Set([
  'new',
  'confirmed',
  'cancelled',
  'showed',
  'noshow',
  'invalid',
]);
const ACCESS_TTL_S = 86_399;

interface TokenGrant {
  userType: 'Company' | 'Location';
  companyId: string;
  locationId?: string | undefined;
  scope: string;
}
interface AccessToken extends TokenGrant {
  expiresAt: number;
}
interface RefreshToken extends TokenGrant {
  clientId: string;
  used: boolean;
}
interface AuthCode extends TokenGrant {
  clientId: string;
  redirectUri: string;
  used: boolean;
}

export interface GhlContact {
  id: string;
  locationId: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  source?: string | undefined;
  tags: string[];
  customFields: { id: string; value: unknown }[];
  dateAdded: string;
}
interface GhlNote {
  id: string;
  contactId: string;
  body: string;
  dateAdded: string;
}
interface GhlOpportunity {
  id: string;
  locationId: string;
  contactId: string;
  pipelineId: string;
  pipelineStageId: string;
  name: string;
  status: string;
  monetaryValue?: number | undefined;
  createdAt: string;
  updatedAt: string;
}
interface GhlCalendar {
  id: string;
  locationId: string;
  name: string;
  timeZone: string;
}
interface GhlEvent {
  id: string;
  calendarId: string;
  locationId: string;
  contactId?: string | undefined;
  title: string;
  /** The calendar's zone, in which GoHighLevel renders the times. */
  timeZone: string;
  startMs: number;
  endMs: number;
  appointmentStatus: string;
  address?: string | undefined;
  notes?: string | undefined;
  blocked: boolean;
  dateAdded: string;
}
export interface GhlMessage {
  id: string;
  conversationId: string;
  locationId: string;
  contactId: string;
  body: string;
  direction: 'outbound' | 'inbound';
  status: string;
  from: string;
  to: string;
  dateAdded: string;
}

const newId = (): string => randomBytes(10).toString('base64url').replace(/[-_]/g, 'x');

export function ghlSimulator(options: { sandboxNumber?: string } = {}): VendorSimulator & {
  keys: GhlWebhookKeys;
} {
  const sandboxNumber = options.sandboxNumber ?? '+15550001000';
  const keys = generateGhlWebhookKeys();
  const clients = new Map<string, string>();
  const codes = new Map<string, AuthCode>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, RefreshToken>();
  const companies = new Map<string, Set<string>>();
  const contacts = new Map<string, GhlContact>();
  const notes = new Map<string, GhlNote>();
  const opportunities = new Map<string, GhlOpportunity>();
  const calendars = new Map<string, GhlCalendar>();
  const events = new Map<string, GhlEvent>();
  const messages = new Map<string, GhlMessage>();
  const conversations = new Map<string, string>(); // contactId → conversationId

  const reset = (): void => {
    for (const map of [
      clients,
      codes,
      accessTokens,
      refreshTokens,
      companies,
      contacts,
      notes,
      opportunities,
      calendars,
      events,
      messages,
      conversations,
    ]) {
      map.clear();
    }
    clients.set(GHL_SANDBOX_CLIENT.clientId, GHL_SANDBOX_CLIENT.clientSecret);
    companies.set(GHL_SANDBOX_COMPANY, new Set([GHL_SANDBOX_LOCATION, GHL_SANDBOX_LOCATION_2]));
  };
  reset();

  const mint = (grant: TokenGrant, clientId: string) => {
    const accessToken = `ghl_at_${randomBytes(24).toString('hex')}`;
    const refreshToken = `ghl_rt_${randomBytes(24).toString('hex')}`;
    accessTokens.set(accessToken, { ...grant, expiresAt: Date.now() + ACCESS_TTL_S * 1000 });
    refreshTokens.set(refreshToken, { ...grant, clientId, used: false });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TTL_S,
      refresh_token: refreshToken,
      scope: grant.scope,
      userType: grant.userType,
      companyId: grant.companyId,
      ...(grant.locationId ? { locationId: grant.locationId } : {}),
      isBulkInstallation: false,
    };
  };

  const fail = (reply: FastifyReply, statusCode: number, message: string | string[]) =>
    reply.code(statusCode).send(errorBody(statusCode, message));

  /** The token's grant, or a 401 already sent. */
  const authorize = (request: FastifyRequest, reply: FastifyReply): AccessToken | undefined => {
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    const grant = token === undefined ? undefined : accessTokens.get(token);
    if (!grant || grant.expiresAt <= Date.now()) {
      void fail(reply, 401, 'Invalid token: access token is invalid');
      return undefined;
    }
    const version = request.headers.version;
    if (typeof version !== 'string' || version === '') {
      void fail(reply, 401, 'version header was not found.');
      return undefined;
    }
    if (!VERSIONS.has(version)) {
      void fail(reply, 401, 'version header is invalid');
      return undefined;
    }
    return grant;
  };

  /** A Location token for this location, or a 403/401 already sent. */
  const locationScope = (
    request: FastifyRequest,
    reply: FastifyReply,
    locationId: string | undefined,
  ): (AccessToken & { locationId: string }) | undefined => {
    const grant = authorize(request, reply);
    if (!grant) return undefined;
    const own = grant.locationId;
    if (grant.userType !== 'Location' || !own || (locationId && own !== locationId)) {
      void fail(reply, 403, 'The token does not have access to this location.');
      return undefined;
    }
    return { ...grant, locationId: own };
  };

  const contactOf = (
    request: FastifyRequest,
    reply: FastifyReply,
    contactId: string,
  ): GhlContact | undefined => {
    const grant = locationScope(request, reply, undefined);
    if (!grant) return undefined;
    const contact = contacts.get(contactId);
    if (contact?.locationId !== grant.locationId) {
      void fail(reply, 404, 'Contact not found');
      return undefined;
    }
    return contact;
  };

  const upsert = (locationId: string, body: Record<string, unknown>) => {
    const email = text(body.email)?.toLowerCase();
    const phone = text(body.phone);
    const existing = [...contacts.values()].find(
      (c) =>
        c.locationId === locationId &&
        ((email !== undefined && c.email === email) || (phone !== undefined && c.phone === phone)),
    );
    const customFields = Array.isArray(body.customFields)
      ? body.customFields.map((f) => {
          const field = fields(f);
          return { id: text(field.id) ?? text(field.key) ?? 'unknown', value: field.field_value };
        })
      : undefined;
    const patch = {
      firstName: text(body.firstName),
      lastName: text(body.lastName),
      name: text(body.name),
      email,
      phone,
      source: text(body.source),
    };
    const tags = Array.isArray(body.tags) ? body.tags.map(String) : undefined;
    if (existing) {
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined) Object.assign(existing, { [key]: value });
      }
      // Upsert replaces tags when given (docs/ghl/contacts/upsert-contact).
      if (tags) existing.tags = [...new Set(tags)];
      if (customFields) {
        for (const field of customFields) {
          existing.customFields = existing.customFields.filter((f) => f.id !== field.id);
          existing.customFields.push(field);
        }
      }
      return { new: false, contact: existing };
    }
    const contact: GhlContact = {
      id: newId(),
      locationId,
      ...patch,
      name:
        patch.name ?? ([patch.firstName, patch.lastName].filter(Boolean).join(' ') || undefined),
      tags: [...new Set(tags ?? [])],
      customFields: customFields ?? [],
      dateAdded: new Date().toISOString(),
    };
    contacts.set(contact.id, contact);
    return { new: true, contact };
  };

  const renderEvent = (event: GhlEvent) => {
    const zone = event.timeZone;
    return {
      id: event.id,
      calendarId: event.calendarId,
      locationId: event.locationId,
      contactId: event.contactId,
      title: event.title,
      startTime: formatInZone(event.startMs, zone),
      endTime: formatInZone(event.endMs, zone),
      appointmentStatus: event.appointmentStatus,
      address: event.address,
      notes: event.notes,
      dateAdded: event.dateAdded,
    };
  };

  const renderMessage = (message: GhlMessage) => ({
    id: message.id,
    type: 2,
    messageType: 'TYPE_SMS',
    locationId: message.locationId,
    contactId: message.contactId,
    conversationId: message.conversationId,
    dateAdded: message.dateAdded,
    body: message.body,
    direction: message.direction,
    status: message.status,
    contentType: 'text/plain',
    source: 'api',
    // Not in GoHighLevel's message schema; the simulator keeps the numbers for the adapter.
    from: message.from,
    to: message.to,
  });

  /** A conversation's messages, newest first (later-stored first among equal dates). */
  const thread = (conversationId: string): GhlMessage[] =>
    [...messages.values()]
      .filter((m) => m.conversationId === conversationId)
      .reverse()
      .sort((a, b) => Date.parse(b.dateAdded) - Date.parse(a.dateAdded));

  /** The contact's conversation, started on first use. */
  const conversationOf = (contactId: string): string => {
    let conversationId = conversations.get(contactId);
    if (!conversationId) {
      conversationId = newId();
      conversations.set(contactId, conversationId);
    }
    return conversationId;
  };

  const rangeOf = (query: Record<string, unknown>): [number, number] | undefined => {
    const start = Number(query.startTime);
    const end = Number(query.endTime);
    return Number.isFinite(start) && Number.isFinite(end) && end > start ? [start, end] : undefined;
  };

  /** Sends a signed webhook as GoHighLevel does: `type`, `locationId`, `webhookId`, `timestamp`. */
  const sendWebhook = async (
    context: SimulatorContext,
    url: string,
    payload: Record<string, unknown>,
  ) => {
    const body = JSON.stringify({
      ...payload,
      webhookId: payload.webhookId ?? randomUUID(),
      timestamp: payload.timestamp ?? new Date().toISOString(),
    });
    return context.webhooks.send('ghl', url, body, {
      'content-type': 'application/json',
      ...signGhlWebhook(body, keys),
    });
  };

  return {
    prefix: 'ghl',
    keys,
    errorBody: (status, message) => errorBody(status, message),
    reset,

    // eslint-disable-next-line @typescript-eslint/require-await
    async api(app: FastifyInstance) {
      // --- OAuth --------------------------------------------------------------------------------
      // Marketplace authorize page: the real one lets the user pick a location; the simulator
      // picks the query's `locationId` (default loc_sandbox) and redirects back at once.
      const chooseLocation = (request: FastifyRequest, reply: FastifyReply) => {
        const q = fields(request.query);
        const clientId = text(q.client_id);
        const redirectUri = text(q.redirect_uri);
        if (q.response_type !== 'code' || !clientId || !clients.has(clientId) || !redirectUri) {
          return fail(reply, 400, 'Invalid authorization request');
        }
        const userType = q.user_type === 'Company' ? 'Company' : 'Location';
        const code = `ghl_code_${randomBytes(16).toString('hex')}`;
        codes.set(code, {
          clientId,
          redirectUri,
          used: false,
          userType,
          companyId: GHL_SANDBOX_COMPANY,
          locationId:
            userType === 'Location' ? (text(q.locationId) ?? GHL_SANDBOX_LOCATION) : undefined,
          scope: scalar(q.scope),
        });
        const target = new URL(redirectUri);
        target.searchParams.set('code', code);
        const state = text(q.state);
        if (state) target.searchParams.set('state', state);
        return reply.redirect(target.toString(), 302);
      };
      app.get('/oauth/chooselocation', chooseLocation);
      app.get('/v2/oauth/chooselocation', chooseLocation);

      app.post('/oauth/token', (request, reply) => {
        const form = fields(request.body);
        const clientId = text(form.client_id);
        if (!clientId || clients.get(clientId) !== text(form.client_secret)) {
          return reply
            .code(401)
            .send({ error: 'invalid_client', error_description: 'Client authentication failed' });
        }
        const invalidGrant = (description: string) =>
          reply.code(400).send({ error: 'invalid_grant', error_description: description });
        if (form.grant_type === 'authorization_code') {
          const code = codes.get(scalar(form.code));
          if (!code || code.used || code.clientId !== clientId) {
            return invalidGrant('Invalid grant: authorization code is invalid');
          }
          const redirectUri = text(form.redirect_uri);
          if (redirectUri !== undefined && redirectUri !== code.redirectUri) {
            return invalidGrant('Invalid grant: redirect_uri does not match');
          }
          code.used = true;
          return mint(code, clientId);
        }
        if (form.grant_type === 'refresh_token') {
          const refresh = refreshTokens.get(scalar(form.refresh_token));
          // Refresh tokens are single use: the answer carries the next one.
          if (!refresh || refresh.used || refresh.clientId !== clientId) {
            return invalidGrant('Invalid grant: refresh token is invalid');
          }
          refresh.used = true;
          return mint(refresh, clientId);
        }
        return reply.code(400).send({
          error: 'unsupported_grant_type',
          error_description: 'grant_type must be authorization_code or refresh_token',
        });
      });

      app.post('/oauth/locationToken', (request, reply) => {
        const grant = authorize(request, reply);
        if (!grant) return reply;
        const form = fields(request.body);
        const companyId = text(form.companyId);
        const locationId = text(form.locationId);
        if (grant.userType !== 'Company' || grant.companyId !== companyId) {
          return fail(reply, 403, 'The token does not have access to this company.');
        }
        if (!locationId || !companies.get(companyId)?.has(locationId)) {
          return fail(reply, 400, 'Location not found');
        }
        const {
          refresh_token: _unused,
          isBulkInstallation: _bulk,
          ...location
        } = mint(
          { userType: 'Location', companyId, locationId, scope: grant.scope },
          'locationToken',
        );
        return location;
      });

      // --- Contacts (Version 2021-07-28) ------------------------------------------------------
      app.post('/contacts/upsert', (request, reply) => {
        const body = fields(request.body);
        const grant = locationScope(request, reply, text(body.locationId));
        if (!grant) return reply;
        if (!text(body.locationId)) return fail(reply, 422, ['locationId should not be empty']);
        if (!text(body.email) && !text(body.phone)) {
          return fail(reply, 400, 'email or phone is required');
        }
        const phone = text(body.phone);
        // GoHighLevel validates phone numbers (E.164 after normalisation) on contact writes.
        if (phone !== undefined && !/^\+[1-9]\d{6,14}$/.test(phone)) {
          return fail(reply, 422, ['phone must be a valid phone number']);
        }
        const result = upsert(grant.locationId, body);
        return reply.code(201).send({ ...result, traceId: randomUUID() });
      });

      app.get<{ Params: { id: string } }>('/contacts/:id', (request, reply) => {
        const contact = contactOf(request, reply, request.params.id);
        if (!contact) return reply;
        return { contact };
      });

      app.post('/contacts/search', (request, reply) => {
        const body = fields(request.body);
        const grant = locationScope(request, reply, text(body.locationId));
        if (!grant) return reply;
        if (!text(body.locationId)) return fail(reply, 422, ['locationId should not be empty']);
        const query = text(body.query)?.toLowerCase();
        const filters = Array.isArray(body.filters) ? body.filters.map(fields) : [];
        const limit = Math.min(Number(body.pageLimit ?? 20) || 20, 500);
        const found = [...contacts.values()].filter((c) => {
          if (c.locationId !== grant.locationId) return false;
          if (
            query &&
            ![c.name, c.firstName, c.lastName, c.email, c.phone].some((v) =>
              v?.toLowerCase().includes(query),
            )
          ) {
            return false;
          }
          return filters.every((f) => {
            const value = scalar(f.value);
            if (f.field === 'email') return c.email === value.toLowerCase();
            if (f.field === 'phone') return c.phone === value;
            return true;
          });
        });
        return { contacts: found.slice(0, limit), total: found.length };
      });

      app.post<{ Params: { id: string } }>('/contacts/:id/notes', (request, reply) => {
        const contact = contactOf(request, reply, request.params.id);
        if (!contact) return reply;
        const body = text(fields(request.body).body);
        if (!body) return fail(reply, 422, ['body should not be empty']);
        const note = {
          id: newId(),
          contactId: contact.id,
          body,
          dateAdded: new Date().toISOString(),
        };
        notes.set(note.id, note);
        return reply.code(201).send({ note });
      });

      const tagsOf = (value: unknown): string[] | undefined =>
        Array.isArray(value) && value.every((t) => typeof t === 'string') ? value : undefined;

      app.post<{ Params: { id: string } }>('/contacts/:id/tags', (request, reply) => {
        const contact = contactOf(request, reply, request.params.id);
        if (!contact) return reply;
        const tags = tagsOf(fields(request.body).tags);
        if (!tags) return fail(reply, 422, ['tags must be an array of strings']);
        contact.tags = [...new Set([...contact.tags, ...tags])];
        return reply.code(201).send({ tags: contact.tags });
      });

      app.delete<{ Params: { id: string } }>('/contacts/:id/tags', (request, reply) => {
        const contact = contactOf(request, reply, request.params.id);
        if (!contact) return reply;
        const tags = tagsOf(fields(request.body).tags);
        if (!tags) return fail(reply, 422, ['tags must be an array of strings']);
        contact.tags = contact.tags.filter((t) => !tags.includes(t));
        return { tags: contact.tags };
      });

      // --- Opportunities -----------------------------------------------------------------------
      app.post('/opportunities/', (request, reply) => {
        const body = fields(request.body);
        const grant = locationScope(request, reply, text(body.locationId));
        if (!grant) return reply;
        const missing = ['locationId', 'pipelineId', 'name', 'contactId', 'status'].filter(
          (k) => !text(body[k]),
        );
        if (missing.length > 0)
          return fail(
            reply,
            422,
            missing.map((k) => `${k} should not be empty`),
          );
        const status = scalar(body.status);
        if (!OPPORTUNITY_STATUSES.has(status)) {
          return fail(reply, 422, ['status must be one of: open, won, lost, abandoned']);
        }
        const contact = contacts.get(scalar(body.contactId));
        if (contact?.locationId !== grant.locationId) {
          return fail(reply, 400, 'Contact not found');
        }
        const now = new Date().toISOString();
        const opportunity: GhlOpportunity = {
          id: newId(),
          locationId: grant.locationId,
          contactId: contact.id,
          pipelineId: scalar(body.pipelineId),
          pipelineStageId: scalar(body.pipelineStageId),
          name: scalar(body.name),
          status,
          monetaryValue: typeof body.monetaryValue === 'number' ? body.monetaryValue : undefined,
          createdAt: now,
          updatedAt: now,
        };
        opportunities.set(opportunity.id, opportunity);
        return reply.code(201).send({ opportunity });
      });

      app.put<{ Params: { id: string } }>('/opportunities/:id', (request, reply) => {
        const grant = locationScope(request, reply, undefined);
        if (!grant) return reply;
        const opportunity = opportunities.get(request.params.id);
        if (opportunity?.locationId !== grant.locationId) {
          return fail(reply, 404, 'Opportunity not found');
        }
        const body = fields(request.body);
        if (body.status !== undefined && !OPPORTUNITY_STATUSES.has(scalar(body.status))) {
          return fail(reply, 422, ['status must be one of: open, won, lost, abandoned']);
        }
        const patch = {
          pipelineId: text(body.pipelineId),
          pipelineStageId: text(body.pipelineStageId),
          name: text(body.name),
          status: text(body.status),
          monetaryValue: typeof body.monetaryValue === 'number' ? body.monetaryValue : undefined,
        };
        for (const [key, value] of Object.entries(patch)) {
          if (value !== undefined) Object.assign(opportunity, { [key]: value });
        }
        opportunity.updatedAt = new Date().toISOString();
        return { opportunity };
      });

      // --- Calendars (Version 2021-04-15) -------------------------------------------------------
      // GET /calendars/events and /calendars/blocked-slots take `locationId`, `calendarId`,
      // `startTime`, `endTime` in epoch milliseconds (docs/ghl/calendars/get-calendar-events).
      const listing = (blocked: boolean) => (request: FastifyRequest, reply: FastifyReply) => {
        const q = fields(request.query);
        const grant = locationScope(request, reply, text(q.locationId));
        if (!grant) return reply;
        const range = rangeOf(q);
        if (!text(q.locationId) || !range) {
          return fail(reply, 422, ['locationId, startTime and endTime are required']);
        }
        const calendarId = text(q.calendarId);
        if (calendarId && calendars.get(calendarId)?.locationId !== grant.locationId) {
          return fail(reply, 404, 'Calendar not found');
        }
        const found = [...events.values()]
          .filter(
            (e) =>
              e.blocked === blocked &&
              e.locationId === grant.locationId &&
              (!calendarId || e.calendarId === calendarId) &&
              e.startMs < range[1] &&
              e.endMs > range[0],
          )
          .sort((a, b) => a.startMs - b.startMs);
        return { events: found.map(renderEvent) };
      };
      app.get('/calendars/events', listing(false));
      app.get('/calendars/blocked-slots', listing(true));

      app.post('/calendars/events/appointments', (request, reply) => {
        const body = fields(request.body);
        const grant = locationScope(request, reply, text(body.locationId));
        if (!grant) return reply;
        const calendar = calendars.get(scalar(body.calendarId));
        if (calendar?.locationId !== grant.locationId) {
          return fail(reply, 400, 'Calendar not found');
        }
        const contact = contacts.get(scalar(body.contactId));
        if (contact?.locationId !== grant.locationId) {
          return fail(reply, 400, 'Contact not found');
        }
        const startMs = Date.parse(scalar(body.startTime));
        const endMs =
          body.endTime === undefined ? startMs + 30 * 60_000 : Date.parse(scalar(body.endTime));
        if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs <= startMs) {
          return fail(reply, 422, [
            'startTime and endTime must be ISO 8601 with endTime after startTime',
          ]);
        }
        const status = text(body.appointmentStatus) ?? 'new';
        if (!APPOINTMENT_STATUSES.has(status)) {
          return fail(reply, 422, ['appointmentStatus is invalid']);
        }
        const clash = [...events.values()].some(
          (e) =>
            e.calendarId === calendar.id &&
            e.appointmentStatus !== 'cancelled' &&
            e.startMs < endMs &&
            e.endMs > startMs,
        );
        if (clash && body.ignoreFreeSlotValidation !== true) {
          return fail(reply, 400, 'The slot you have selected is no longer available.');
        }
        const event: GhlEvent = {
          id: newId(),
          calendarId: calendar.id,
          timeZone: calendar.timeZone,
          locationId: calendar.locationId,
          contactId: contact.id,
          title: text(body.title) ?? 'Appointment',
          startMs,
          endMs,
          appointmentStatus: status,
          address: text(body.address),
          notes: text(body.description),
          blocked: false,
          dateAdded: new Date().toISOString(),
        };
        events.set(event.id, event);
        return reply.code(201).send(renderEvent(event));
      });

      app.put<{ Params: { eventId: string } }>(
        '/calendars/events/appointments/:eventId',
        (request, reply) => {
          const grant = locationScope(request, reply, undefined);
          if (!grant) return reply;
          const event = events.get(request.params.eventId);
          if (!event || event.blocked || event.locationId !== grant.locationId) {
            return fail(reply, 404, 'Appointment not found');
          }
          const body = fields(request.body);
          const status = text(body.appointmentStatus);
          if (status !== undefined) {
            if (!APPOINTMENT_STATUSES.has(status)) {
              return fail(reply, 422, ['appointmentStatus is invalid']);
            }
            event.appointmentStatus = status;
          }
          const title = text(body.title);
          if (title) event.title = title;
          return renderEvent(event);
        },
      );

      app.delete<{ Params: { eventId: string } }>(
        '/calendars/events/:eventId',
        (request, reply) => {
          const grant = locationScope(request, reply, undefined);
          if (!grant) return reply;
          const event = events.get(request.params.eventId);
          if (event?.locationId !== grant.locationId) {
            return fail(reply, 404, 'Event not found');
          }
          events.delete(event.id);
          return { succeeded: true };
        },
      );

      // --- Conversations (Version 2021-04-15) --------------------------------------------------
      // POST /conversations/messages {type: 'SMS', contactId, message, fromNumber?, toNumber?}
      // → {conversationId, messageId, msg} (docs/ghl/conversations/send-a-new-message).
      app.post('/conversations/messages', (request, reply) => {
        const grant = locationScope(request, reply, undefined);
        if (!grant) return reply;
        const body = fields(request.body);
        if (body.type !== 'SMS') return fail(reply, 422, ['type must be SMS (simulator subset)']);
        const contact = contacts.get(scalar(body.contactId));
        if (contact?.locationId !== grant.locationId) {
          return fail(reply, 400, 'Contact not found');
        }
        const message = text(body.message);
        if (!message) return fail(reply, 422, ['message should not be empty']);
        const to = text(body.toNumber) ?? contact.phone;
        if (!to) return fail(reply, 400, 'Contact does not have a phone number');
        const from = text(body.fromNumber);
        // Only the location's own numbers may send (LC Phone / Twilio numbers of the location).
        if (from !== undefined && from !== sandboxNumber) {
          return fail(reply, 400, 'fromNumber is not a phone number of this location');
        }
        const conversationId = conversationOf(contact.id);
        const record: GhlMessage = {
          id: newId(),
          conversationId,
          locationId: contact.locationId,
          contactId: contact.id,
          body: message,
          direction: 'outbound',
          status: 'pending',
          from: text(body.fromNumber) ?? sandboxNumber,
          to,
          dateAdded: new Date().toISOString(),
        };
        messages.set(record.id, record);
        return reply
          .code(201)
          .send({ conversationId, messageId: record.id, msg: 'Message queued successfully.' });
      });

      app.get<{ Params: { id: string } }>('/conversations/messages/:id', (request, reply) => {
        const grant = locationScope(request, reply, undefined);
        if (!grant) return reply;
        const message = messages.get(request.params.id);
        if (message?.locationId !== grant.locationId) {
          return fail(reply, 404, 'Message not found');
        }
        return { message: renderMessage(message) };
      });

      // GET /conversations/search?locationId=…&contactId=…&limit=… → {conversations, total}
      // (docs/ghl/conversations/search-conversation: ConversationSchema items), the most recent
      // last message first. The simulator has one SMS conversation per contact.
      app.get('/conversations/search', (request, reply) => {
        const query = fields(request.query);
        const grant = locationScope(request, reply, text(query.locationId));
        if (!grant) return reply;
        if (!text(query.locationId)) return fail(reply, 422, ['locationId should not be empty']);
        const contactId = text(query.contactId);
        const limit = Math.min(Number(query.limit ?? 20) || 20, 100);
        // A conversation starts with its first message: `last` is always there.
        const found = [...conversations.entries()]
          .map(([owner, id]) => ({ id, contact: contacts.get(owner), last: thread(id)[0] }))
          .filter(
            (c): c is { id: string; contact: GhlContact; last: GhlMessage } =>
              c.contact?.locationId === grant.locationId &&
              (contactId === undefined || c.contact.id === contactId) &&
              c.last !== undefined,
          )
          .sort((a, b) => Date.parse(b.last.dateAdded) - Date.parse(a.last.dateAdded));
        return {
          conversations: found.slice(0, limit).map(({ id, contact, last }) => ({
            id,
            contactId: contact.id,
            locationId: contact.locationId,
            lastMessageBody: last.body,
            lastMessageType: 'TYPE_SMS',
            lastMessageDate: Date.parse(last.dateAdded),
            type: 'TYPE_PHONE',
            unreadCount: 0,
            fullName: contact.name ?? '',
            contactName: contact.name ?? '',
            email: contact.email ?? '',
            phone: contact.phone ?? '',
          })),
          total: found.length,
        };
      });

      // GET /conversations/:conversationId/messages?limit=…&lastMessageId=…&type=TYPE_SMS,…
      // → {messages: {lastMessageId, nextPage, messages}} (docs/ghl/conversations/get-messages:
      // GetMessagesByConversationResponseDto), newest first, 20 by default; `lastMessageId` pages
      // on to older messages. Unknown conversations answer 400 (the only error documented).
      app.get<{ Params: { conversationId: string } }>(
        '/conversations/:conversationId/messages',
        (request, reply) => {
          const grant = locationScope(request, reply, undefined);
          if (!grant) return reply;
          const query = fields(request.query);
          const id = request.params.conversationId;
          const owner = [...conversations.entries()].find(([, c]) => c === id)?.[0];
          if (contacts.get(owner ?? '')?.locationId !== grant.locationId) {
            return fail(reply, 400, 'Conversation not found');
          }
          const limit = Math.min(Number(query.limit ?? 20) || 20, 100);
          const types = text(query.type)?.split(',');
          let listed = types === undefined || types.includes('TYPE_SMS') ? thread(id) : [];
          const after = text(query.lastMessageId);
          if (after !== undefined)
            listed = listed.slice(listed.findIndex((m) => m.id === after) + 1);
          const page = listed.slice(0, limit);
          return {
            messages: {
              lastMessageId: page.at(-1)?.id ?? '',
              nextPage: listed.length > limit,
              messages: page.map(renderMessage),
            },
          };
        },
      );
    },

    // eslint-disable-next-line @typescript-eslint/require-await
    async control(app: FastifyInstance, context: SimulatorContext) {
      /** Public keys to verify `x-ghl-signature` (Ed25519) and `x-wh-signature` (RSA). */
      app.get('/webhook-keys', () => ({
        ed25519PublicKey: publicKeyPem(keys.ed25519.publicKey),
        rsaPublicKey: publicKeyPem(keys.rsa.publicKey),
      }));

      /** Mints a token pair without the OAuth dance (Location by default). */
      app.post('/tokens', (request, reply) => {
        const body = fields(request.body);
        const userType = body.userType === 'Company' ? 'Company' : 'Location';
        const tokens = mint(
          {
            userType,
            companyId: text(body.companyId) ?? GHL_SANDBOX_COMPANY,
            locationId:
              userType === 'Location' ? (text(body.locationId) ?? GHL_SANDBOX_LOCATION) : undefined,
            scope: text(body.scope) ?? 'contacts.write calendars.write conversations/message.write',
          },
          GHL_SANDBOX_CLIENT.clientId,
        );
        return reply.code(201).send(tokens);
      });

      /** Expires an access token now: the next call with it answers 401. */
      app.post('/tokens/expire', (request, reply) => {
        const token = accessTokens.get(scalar(fields(request.body).accessToken));
        if (!token) return reply.code(404).send({ error: 'unknown token' });
        token.expiresAt = 0;
        return { expired: true };
      });

      app.post('/clients', (request, reply) => {
        const body = fields(request.body);
        const clientId = text(body.clientId);
        const clientSecret = text(body.clientSecret);
        if (!clientId || !clientSecret)
          return reply.code(400).send({ error: 'clientId and clientSecret required' });
        clients.set(clientId, clientSecret);
        return reply.code(201).send({ clientId });
      });

      app.post('/contacts', (request, reply) => {
        const body = fields(request.body);
        const result = upsert(text(body.locationId) ?? GHL_SANDBOX_LOCATION, body);
        return reply.code(201).send(result.contact);
      });

      app.post('/calendars', (request, reply) => {
        const body = fields(request.body);
        const calendar: GhlCalendar = {
          id: text(body.id) ?? newId(),
          locationId: text(body.locationId) ?? GHL_SANDBOX_LOCATION,
          name: text(body.name) ?? 'Sandbox calendar',
          timeZone: text(body.timeZone) ?? 'America/New_York',
        };
        calendars.set(calendar.id, calendar);
        return reply.code(201).send(calendar);
      });

      /** Seeds a busy interval: an appointment (default) or a blocked slot. */
      app.post('/slots', (request, reply) => {
        const body = fields(request.body);
        const calendar = calendars.get(scalar(body.calendarId));
        const startMs = Date.parse(scalar(body.startTime));
        const endMs = Date.parse(scalar(body.endTime));
        if (!calendar || Number.isNaN(startMs) || Number.isNaN(endMs)) {
          return reply.code(400).send({ error: 'calendarId, startTime and endTime required' });
        }
        const event: GhlEvent = {
          id: newId(),
          calendarId: calendar.id,
          timeZone: calendar.timeZone,
          locationId: calendar.locationId,
          contactId: text(body.contactId),
          title: text(body.title) ?? 'Busy',
          startMs,
          endMs,
          appointmentStatus: text(body.appointmentStatus) ?? 'confirmed',
          blocked: body.blocked === true,
          dateAdded: new Date().toISOString(),
        };
        events.set(event.id, event);
        return reply.code(201).send(renderEvent(event));
      });

      /**
       * Seeds conversation history: `{phone, body?, direction?: 'inbound' | 'outbound', dateAdded?,
       * locationId?}` — the contact is upserted by phone; an inbound message is `delivered` from
       * it to the sandbox number, an outbound one `delivered` the other way. Nothing is posted.
       */
      app.post('/messages', (request, reply) => {
        const body = fields(request.body);
        const phone = text(body.phone);
        const dateAdded = new Date(text(body.dateAdded) ?? Date.now());
        if (!phone || !/^\+[1-9]\d{6,14}$/.test(phone) || Number.isNaN(dateAdded.getTime())) {
          return reply.code(400).send({ error: 'phone (E.164) required; dateAdded must be ISO' });
        }
        const { contact } = upsert(text(body.locationId) ?? GHL_SANDBOX_LOCATION, { phone });
        const inbound = body.direction !== 'outbound';
        const record: GhlMessage = {
          id: newId(),
          conversationId: conversationOf(contact.id),
          locationId: contact.locationId,
          contactId: contact.id,
          body: text(body.body) ?? '',
          direction: inbound ? 'inbound' : 'outbound',
          status: 'delivered',
          from: inbound ? phone : sandboxNumber,
          to: inbound ? sandboxNumber : phone,
          dateAdded: dateAdded.toISOString(),
        };
        messages.set(record.id, record);
        return reply.code(201).send(renderMessage(record));
      });

      /** Moves a message along (delivered, failed…), as the carrier would. */
      app.post<{ Params: { id: string } }>('/messages/:id/status', (request, reply) => {
        const message = messages.get(request.params.id);
        const status = text(fields(request.body).status);
        if (!message || !status) return reply.code(404).send({ error: 'unknown message' });
        message.status = status;
        return renderMessage(message);
      });

      /**
       * Sends a signed webhook: body `{type, url?, locationId?, ...payload}`, e.g.
       * `{type: 'InboundMessage', contactId, body, messageType: 'SMS'}`.
       */
      app.post('/webhooks', async (request, reply) => {
        const { url, ...payload } = fields(request.body);
        if (!text(payload.type)) return reply.code(400).send({ error: 'type required' });
        const sent = await sendWebhook(
          context,
          text(url) ?? `${context.publicUrl}/webhooks/gohighlevel`,
          {
            locationId: GHL_SANDBOX_LOCATION,
            ...payload,
          },
        );
        return reply.code(201).send(sent);
      });
    },
  };
}

/** GoHighLevel's NestJS-style error body. */
function errorBody(statusCode: number, message: string | string[]) {
  const names: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    422: 'Unprocessable Entity',
    429: 'Too Many Requests',
  };
  return { statusCode, message, error: names[statusCode] ?? 'Internal Server Error' };
}

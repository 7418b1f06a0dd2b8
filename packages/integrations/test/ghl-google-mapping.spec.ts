import { ProviderError } from '@maxai/core';
import {
  contactFromGhl,
  describeGhlError,
  describeGoogleError,
  eventIdFor,
  eventStatusFromGhl,
  GhlCalendar,
  GhlCrm,
  GhlMessaging,
  ghlOAuth,
  GoogleCalendar,
  googleOAuth,
  messageStatusFromGhl,
} from '@maxai/integrations';
import { describe, expect, it } from 'vitest';
import { describeOAuthError, tokensFrom } from '../src/oauth-token';
import { formatInZone } from '../src/zoned-time';

/** A fetch that answers the queued JSON bodies in order, recording the requests. */
function fakeFetch(...answers: { status?: number; body: unknown }[]) {
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  const impl = (input: URL, init?: RequestInit) => {
    requests.push({ url: input.toString(), init });
    const answer = answers.shift() ?? { status: 500, body: {} };
    return Promise.resolve(
      new Response(JSON.stringify(answer.body), {
        status: answer.status ?? 200,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  return { fetch: impl as unknown as typeof fetch, requests };
}
const token = () => Promise.resolve('tok');

describe('formatInZone', () => {
  it('renders the offset of the zone at that instant', () => {
    expect(formatInZone('2026-12-01T14:00:00Z', 'UTC', 'google')).toBe('2026-12-01T14:00:00Z');
    expect(formatInZone('2026-12-01T14:00:00Z', 'Asia/Kolkata', 'google')).toBe(
      '2026-12-01T19:30:00+05:30',
    );
    expect(formatInZone(Date.parse('2026-07-01T13:00:00.900Z'), 'America/New_York', 'google')).toBe(
      '2026-07-01T09:00:00-04:00',
    );
    expect(formatInZone('2026-12-01T00:30:00Z', 'Pacific/Chatham', 'google')).toBe(
      '2026-12-01T14:15:00+13:45',
    );
  });

  it('refuses unreadable times and zones as invalid', () => {
    expect(() => formatInZone('soon', 'UTC', 'gohighlevel')).toThrow(
      expect.objectContaining({ kind: 'invalid', provider: 'gohighlevel' }),
    );
    expect(() => formatInZone(0, 'Not/AZone', 'google')).toThrow(
      expect.objectContaining({ kind: 'invalid' }),
    );
  });
});

describe('error descriptions', () => {
  it('GoHighLevel: string or array messages, OAuth bodies, anything else', () => {
    expect(
      describeGhlError({ statusCode: 422, message: ['a', 'b'], error: 'Unprocessable Entity' }),
    ).toEqual({
      code: 'Unprocessable Entity',
      message: 'a; b',
    });
    expect(describeGhlError({ error: 'invalid_grant', error_description: 'used' })).toEqual({
      code: 'invalid_grant',
      message: 'used',
    });
    expect(describeGhlError({ statusCode: 500 })).toEqual({});
    expect(describeGhlError('Bad Gateway')).toEqual({});
    expect(describeGhlError(null)).toEqual({});
  });

  it('Google: API errors (reason, else status), OAuth errors, anything else', () => {
    expect(
      describeGoogleError({
        error: {
          code: 404,
          message: 'Not Found',
          errors: [{ reason: 'notFound' }],
          status: 'NOT_FOUND',
        },
      }),
    ).toEqual({ code: 'notFound', message: 'Not Found' });
    expect(describeGoogleError({ error: { code: 500, status: 'INTERNAL' } })).toEqual({
      code: 'INTERNAL',
    });
    expect(describeGoogleError({ error: { errors: [{}] } })).toEqual({});
    expect(describeGoogleError({ error: 'invalid_grant' })).toEqual({ code: 'invalid_grant' });
    expect(describeGoogleError({ error: 5 })).toEqual({});
    expect(describeGoogleError('oops')).toEqual({});
  });

  it('OAuth: error and error_description only when strings', () => {
    expect(describeOAuthError({ error: 'invalid_client' })).toEqual({ code: 'invalid_client' });
    expect(describeOAuthError({ error: 1, error_description: 'x' })).toEqual({ message: 'x' });
    expect(describeOAuthError(undefined)).toEqual({});
  });
});

describe('token answers', () => {
  it('maps expires_in, scope and refresh_token when present', () => {
    expect(tokensFrom({ access_token: 'a' }, {}, 'google', 0)).toEqual({
      accessToken: 'a',
      refreshToken: undefined,
      expiresAt: undefined,
      scope: undefined,
      attributes: {},
    });
    expect(
      tokensFrom(
        { access_token: 'a', expires_in: 60, refresh_token: 'r', scope: 's' },
        {},
        'google',
        0,
      ),
    ).toMatchObject({
      expiresAt: '1970-01-01T00:01:00.000Z',
      refreshToken: 'r',
      scope: 's',
    });
  });

  it('an answer without an access token is a transient provider failure', () => {
    expect(() => tokensFrom({ token_type: 'Bearer' }, {}, 'gohighlevel')).toThrow(ProviderError);
    expect(() => tokensFrom({ access_token: '' }, {}, 'gohighlevel')).toThrow(
      /without an access_token/,
    );
  });

  it('ghlOAuth: user_type on token requests, attributes only when given, options honoured', async () => {
    const fake = fakeFetch(
      {
        body: {
          access_token: 'a',
          refresh_token: 'r',
          userType: 'Location',
          companyId: '',
          locationId: 5,
        },
      },
      { body: { access_token: 'b', userType: 'Company', companyId: 'c1' } },
    );
    const provider = ghlOAuth({
      authorizeBaseUrl: 'https://marketplace.example/',
      tokenBaseUrl: 'https://api.example',
      userType: 'Location',
      timeoutMs: 1000,
      fetch: fake.fetch,
    });
    const tokens = await provider.exchangeCode({
      client: { clientId: 'id', clientSecret: 'sec' },
      code: 'c',
      redirectUri: 'r',
    });
    expect(tokens.attributes).toEqual({ userType: 'Location' });
    expect(fake.requests[0]?.init?.body as string).toContain('user_type=Location');
    expect(fake.requests[0]?.url).toBe('https://api.example/oauth/token');
    const refreshed = await provider.refresh({
      client: { clientId: 'id', clientSecret: 'sec' },
      refreshToken: 'r',
    });
    expect(refreshed).toMatchObject({
      accessToken: 'b',
      attributes: { userType: 'Company', companyId: 'c1' },
    });
    expect(
      provider.authorizeUrl({
        client: { clientId: 'id', clientSecret: 's' },
        redirectUri: 'r',
        state: 's',
        scopes: [],
      }),
    ).toMatch(/^https:\/\/marketplace\.example\/oauth\/chooselocation\?/);
  });

  it('googleOAuth: default endpoints, a rotated refresh token is kept, other failures pass through', async () => {
    const fake = fakeFetch(
      { body: { access_token: 'a', refresh_token: 'rotated', expires_in: 3599 } },
      { status: 503, body: { error: 'temporarily_unavailable' } },
    );
    const provider = googleOAuth({ fetch: fake.fetch, timeoutMs: 1000 });
    const refreshed = await provider.refresh({
      client: { clientId: 'id', clientSecret: 's' },
      refreshToken: 'old',
    });
    expect(refreshed.refreshToken).toBe('rotated');
    expect(fake.requests[0]?.url).toBe('https://oauth2.googleapis.com/token');
    await expect(
      provider.exchangeCode({
        client: { clientId: 'id', clientSecret: 's' },
        code: 'c',
        redirectUri: 'r',
      }),
    ).rejects.toMatchObject({ kind: 'transient', providerCode: 'temporarily_unavailable' });
  });
});

describe('GoHighLevel mappings', () => {
  it('appointment and message statuses', () => {
    expect(
      ['new', 'confirmed', 'cancelled', 'showed', 'noshow', 'invalid', null].map((s) =>
        eventStatusFromGhl(s),
      ),
    ).toEqual([
      'tentative',
      'confirmed',
      'cancelled',
      'confirmed',
      'confirmed',
      'cancelled',
      'confirmed',
    ]);
    const statuses = [
      'pending',
      'scheduled',
      'sent',
      'connected',
      'delivered',
      'read',
      'opened',
      'undelivered',
      'failed',
      undefined,
    ];
    expect(statuses.map((s) => messageStatusFromGhl(s, 'outbound'))).toEqual([
      'queued',
      'queued',
      'sent',
      'sent',
      'delivered',
      'delivered',
      'delivered',
      'undelivered',
      'failed',
      'queued',
    ]);
    expect(messageStatusFromGhl('delivered', 'inbound')).toBe('received');
  });

  it('contacts with nulls and no custom fields', () => {
    expect(
      contactFromGhl({
        id: 'c',
        firstName: null,
        lastName: null,
        name: null,
        email: 'A@B.com',
        phone: null,
        customFields: [],
      }),
    ).toEqual({
      id: 'c',
      firstName: undefined,
      lastName: undefined,
      name: undefined,
      email: 'a@b.com',
      phone: undefined,
      tags: [],
      customFields: undefined,
      createdAt: undefined,
    });
    expect(contactFromGhl({ id: 'c', email: null }).email).toBeUndefined();
  });

  it('a message with missing fields reads as empty', async () => {
    const fake = fakeFetch({
      body: {
        message: {
          id: 'm',
          body: null,
          from: null,
          to: null,
          dateAdded: null,
          direction: 'inbound',
        },
      },
    });
    const messaging = new GhlMessaging({
      baseUrl: 'https://ghl.example',
      accessToken: token,
      locationId: 'l',
      fetch: fake.fetch,
      maxRetries: 0,
      timeoutMs: 1000,
    });
    expect((await messaging.getMessage('m')).data).toEqual({
      id: 'm',
      status: 'received',
      from: '',
      to: '',
      body: '',
      segments: 1,
      sentAt: undefined,
    });
    expect(new Headers(fake.requests[0]?.init?.headers).get('version')).toBe('2021-04-15');
  });

  it('calendar events without title, contact or address; booking with attendees of several kinds', async () => {
    const fake = fakeFetch(
      {
        body: {
          events: [
            {
              id: 'e',
              calendarId: 'cal',
              startTime: '2026-12-01T10:00:00Z',
              endTime: '2026-12-01T11:00:00Z',
            },
          ],
        },
      },
      { body: { contact: { id: 'new-contact' } } },
      {
        body: {
          id: 'e2',
          calendarId: 'cal',
          startTime: '2026-12-01T10:00:00Z',
          endTime: '2026-12-01T11:00:00Z',
          title: 't',
          notes: 'n',
          address: null,
        },
      },
    );
    const calendar = new GhlCalendar({
      baseUrl: 'https://ghl.example',
      accessToken: token,
      locationId: 'l',
      fetch: fake.fetch,
    });
    const listed = await calendar.listEvents({
      calendarId: 'cal',
      start: '2026-12-01T00:00:00Z',
      end: '2026-12-02T00:00:00Z',
    });
    expect(listed.data[0]).toMatchObject({
      title: '',
      attendees: [],
      location: undefined,
      description: undefined,
    });
    const booked = await calendar.createEvent({
      calendarId: 'cal',
      title: 't',
      start: '2026-12-01T10:00:00Z',
      end: '2026-12-01T11:00:00Z',
      timeZone: 'UTC',
      attendees: [{ name: 'no details' }, { phone: '+15550000000' }],
    });
    expect(booked.data).toMatchObject({ description: 'n', location: undefined });
    expect(booked.data.attendees).toEqual([
      { name: 'no details' },
      { phone: '+15550000000', contactId: 'new-contact' },
    ]);
  });
});

describe('GoHighLevel edge cases', () => {
  it('an appointment without attendees is refused before any call', async () => {
    const fake = fakeFetch();
    const calendar = new GhlCalendar({
      baseUrl: 'https://ghl.example',
      accessToken: token,
      locationId: 'l',
      fetch: fake.fetch,
    });
    await expect(
      calendar.createEvent({
        calendarId: 'c',
        title: 't',
        start: '2026-12-01T10:00:00Z',
        end: '2026-12-01T11:00:00Z',
        timeZone: 'UTC',
      }),
    ).rejects.toMatchObject({ kind: 'invalid' });
    expect(fake.requests).toHaveLength(0);
  });

  it('an opportunity without a value reads as undefined', async () => {
    const fake = fakeFetch({
      status: 201,
      body: {
        opportunity: {
          id: 'o',
          contactId: 'c',
          pipelineId: 'p',
          pipelineStageId: 's',
          name: 'n',
          status: 'open',
          monetaryValue: null,
        },
      },
    });
    const crm = new GhlCrm({
      baseUrl: 'https://ghl.example',
      accessToken: token,
      locationId: 'l',
      fetch: fake.fetch,
    });
    const { data } = await crm.createOpportunity(
      { contactId: 'c', pipelineId: 'p', stageId: 's', name: 'n' },
      { idempotencyKey: 'k' },
    );
    expect(data.monetaryValue).toBeUndefined();
    expect(new Headers(fake.requests[0]?.init?.headers).get('idempotency-key')).toBe('k');
  });
});

describe('Google mappings', () => {
  const calendarWith = (...answers: { status?: number; body: unknown }[]) => {
    const fake = fakeFetch(...answers);
    return {
      fake,
      calendar: new GoogleCalendar({
        baseUrl: 'https://www.googleapis.com',
        accessToken: token,
        fetch: fake.fetch,
        maxRetries: 0,
        timeoutMs: 1000,
        sendUpdates: 'all',
      }),
    };
  };

  it('event ids from idempotency keys are base32hex and stable', () => {
    expect(eventIdFor('k')).toMatch(/^[a-v0-9]{32}$/);
    expect(eventIdFor('k')).toBe(eventIdFor('k'));
  });

  it('lists all-day and sparse events, in UTC when neither the query nor the answer names a zone', async () => {
    const { calendar, fake } = calendarWith(
      {
        body: {
          items: [
            { id: 'a', start: { date: '2026-12-01' }, end: { date: '2026-12-02' } },
            { id: 'b', status: 'tentative', start: {}, end: {}, attendees: [{ email: 'x@y.z' }] },
          ],
        },
      },
      { body: {} },
    );
    const { data } = await calendar.listEvents({
      calendarId: 'c',
      start: '2026-12-01T00:00:00Z',
      end: '2026-12-02T00:00:00Z',
    });
    expect(data[0]).toMatchObject({
      title: '',
      start: '2026-12-01T00:00:00Z',
      end: '2026-12-02T00:00:00Z',
      timeZone: 'UTC',
      status: 'confirmed',
      attendees: [],
    });
    expect(data[1]).toMatchObject({
      status: 'tentative',
      start: '1970-01-01T00:00:00Z',
      attendees: [{ email: 'x@y.z', name: undefined }],
    });
    expect(fake.requests[0]?.url).toContain('showDeleted=true');
    expect(
      (
        await calendar.listEvents({
          calendarId: 'c',
          start: '2026-12-01T00:00:00Z',
          end: '2026-12-02T00:00:00Z',
        })
      ).data,
    ).toEqual([]);
  });

  it('freeBusy: a calendar missing from the answer, another error reason, no busy list', async () => {
    const range = { start: '2026-12-01T00:00:00Z', end: '2026-12-02T00:00:00Z', timeZone: 'UTC' };
    const missing = calendarWith({ body: { calendars: {} } });
    await expect(missing.calendar.freeBusy({ ...range, calendarIds: ['x'] })).rejects.toMatchObject(
      { kind: 'not_found', providerCode: undefined },
    );
    const other = calendarWith({
      body: { calendars: { x: { errors: [{ reason: 'internalError' }] } } },
    });
    await expect(other.calendar.freeBusy({ ...range, calendarIds: ['x'] })).rejects.toMatchObject({
      kind: 'invalid',
      providerCode: 'internalError',
    });
    const empty = calendarWith({ body: { calendars: { x: {} } } });
    expect(
      (await empty.calendar.freeBusy({ ...range, calendarIds: ['x'] }, { idempotencyKey: 'k' }))
        .data,
    ).toEqual({ x: [] });
  });

  it('createEvent failures other than a replayed id pass through; cancel failures other than 410 too', async () => {
    const input = {
      calendarId: 'c',
      title: 't',
      start: '2026-12-01T10:00:00Z',
      end: '2026-12-01T11:00:00Z',
      timeZone: 'UTC',
    };
    const conflict = calendarWith({
      status: 409,
      body: { error: { code: 409, errors: [{ reason: 'duplicate' }] } },
    });
    await expect(conflict.calendar.createEvent(input)).rejects.toMatchObject({ status: 409 });
    const broken = calendarWith({
      status: 400,
      body: { error: { code: 400, errors: [{ reason: 'invalid' }] } },
    });
    await expect(broken.calendar.createEvent(input, { idempotencyKey: 'k' })).rejects.toMatchObject(
      { kind: 'invalid' },
    );
    const notThere = calendarWith({ status: 404, body: {} });
    await expect(notThere.calendar.cancelEvent('c', 'e')).rejects.toMatchObject({
      kind: 'not_found',
    });
    expect(notThere.fake.requests[0]?.url).toContain('sendUpdates=all');
  });
});

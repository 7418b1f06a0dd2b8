import { ProviderError } from '@maxai/core';
import {
  GhlCalendar,
  GhlCrm,
  GhlMessaging,
  ghlOAuth,
  type GhlAdapterOptions,
} from '@maxai/integrations';
import {
  GHL_SANDBOX_CLIENT,
  GHL_SANDBOX_COMPANY,
  GHL_SANDBOX_LOCATION,
  GHL_SANDBOX_LOCATION_2,
  ghlSimulator,
} from '@maxai/simulators';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCalendarContract } from './contracts/calendar.contract';
import { runCrmContract } from './contracts/crm.contract';
import { runMessagingContract } from './contracts/messaging.contract';
import { errorText, startSimulator, type SimHarness } from './sim-harness';

interface MintedTokens {
  access_token: string;
  refresh_token: string;
}

async function ghlConnection(
  sim: SimHarness,
  locationId = GHL_SANDBOX_LOCATION,
  extra: Partial<GhlAdapterOptions> = {},
): Promise<GhlAdapterOptions & { token: string }> {
  const tokens = await sim.control<MintedTokens>('ghl/tokens', { locationId });
  return {
    baseUrl: `${sim.url}/ghl`,
    accessToken: () => Promise.resolve(tokens.access_token),
    locationId,
    retryBaseMs: 1,
    token: tokens.access_token,
    ...extra,
  };
}

runCrmContract('GhlCrm (GoHighLevel simulator)', async () => {
  const sim = await startSimulator(ghlSimulator());
  return {
    crm: new GhlCrm(await ghlConnection(sim)),
    otherTenant: new GhlCrm(await ghlConnection(sim, GHL_SANDBOX_LOCATION_2)),
    pipeline: { pipelineId: 'pipe_sales', stageId: 'stage_new', nextStageId: 'stage_won' },
    teardown: () => sim.close(),
  };
});

runMessagingContract('GhlMessaging (GoHighLevel simulator)', async () => {
  const sim = await startSimulator(ghlSimulator());
  return {
    adapter: new GhlMessaging(await ghlConnection(sim)),
    from: '+15550001000',
    foreignFrom: '+15559999999',
    unknownMessageId: 'msg_unknown',
    deliver: async (id) => {
      await sim.control(`ghl/messages/${id}/status`, { status: 'delivered' });
    },
    seed: async ({ direction, them, body, at }) => {
      await sim.control('ghl/messages', { phone: them, direction, body, dateAdded: at });
    },
    teardown: () => sim.close(),
  };
});

runCalendarContract('GhlCalendar (GoHighLevel simulator)', async () => {
  const sim = await startSimulator(ghlSimulator());
  await sim.control('ghl/calendars', { id: 'cal_sales', timeZone: 'America/Chicago' });
  return {
    calendar: new GhlCalendar(await ghlConnection(sim)),
    calendarId: 'cal_sales',
    attendee: { email: 'lead@example.com', name: 'Lead Person' },
    seedBusy: async (calendarId, start, end) => {
      await sim.control('ghl/slots', { calendarId, startTime: start, endTime: end, blocked: true });
    },
    teardown: () => sim.close(),
  };
});

describe('GoHighLevel adapters against the simulator', () => {
  let sim: SimHarness;
  beforeAll(async () => {
    sim = await startSimulator(ghlSimulator());
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(async () => {
    await sim.control('reset');
    await sim.control('ghl/calendars', { id: 'cal_1', timeZone: 'America/New_York' });
  });

  describe('GhlMessaging', () => {
    it('sends an SMS to a new contact by phone, with segment usage, and reads it back', async () => {
      const messaging = new GhlMessaging(await ghlConnection(sim));
      const body = 'Hi! Your appointment is confirmed for Tuesday at 9am. Reply STOP to opt out.';
      const sent = await messaging.sendSms({ from: '+15550001000', to: '+15557654321', body });
      expect(sent.data).toMatchObject({
        status: 'queued',
        from: '+15550001000',
        to: '+15557654321',
        body,
        segments: 1,
      });
      expect(sent.usage).toEqual({
        provider: 'gohighlevel',
        operation: 'messaging.send_sms',
        units: [{ name: 'sms_segment', quantity: 1 }],
        reference: sent.data.id,
      });
      const read = await messaging.getMessage(sent.data.id);
      expect(read.data).toMatchObject({
        id: sent.data.id,
        status: 'queued',
        body,
        from: '+15550001000',
        to: '+15557654321',
        segments: 1,
      });
      expect(read.data.sentAt).toEqual(expect.any(String));

      await sim.control(`ghl/messages/${sent.data.id}/status`, { status: 'delivered' });
      expect((await messaging.getMessage(sent.data.id)).data.status).toBe('delivered');
    });

    it('counts UCS-2 segments for a long non-GSM body and reuses the contact', async () => {
      const messaging = new GhlMessaging(await ghlConnection(sim));
      const body = 'Привет! '.repeat(12); // 96 UCS-2 units → 2 segments
      const first = await messaging.sendSms({ from: '+15550001000', to: '+15550000001', body });
      expect(first.data.segments).toBe(2);
      expect(first.usage?.units).toEqual([{ name: 'sms_segment', quantity: 2 }]);
      const crm = new GhlCrm(await ghlConnection(sim));
      expect((await crm.searchContacts({ phone: '+15550000001' })).data).toHaveLength(1);
    });

    it('an unknown message is not_found; another location cannot read it', async () => {
      const messaging = new GhlMessaging(await ghlConnection(sim));
      expect(await messaging.getMessage('nope').catch((e: unknown) => e)).toMatchObject({
        kind: 'not_found',
        status: 404,
      });
      const sent = await messaging.sendSms({ from: '+15550001000', to: '+15550000002', body: 'x' });
      const other = new GhlMessaging(await ghlConnection(sim, GHL_SANDBOX_LOCATION_2));
      expect(await other.getMessage(sent.data.id).catch((e: unknown) => e)).toMatchObject({
        kind: 'not_found',
      });
    });

    it('lists nothing for a contact without a conversation, or one in another location', async () => {
      const messaging = new GhlMessaging(await ghlConnection(sim));
      await sim.control('ghl/contacts', { phone: '+15550000003' });
      expect((await messaging.listMessages({ with: '+15550000003' })).data).toEqual([]);
      await sim.control('ghl/messages', { phone: '+15550000004', body: 'hi' });
      const other = new GhlMessaging(await ghlConnection(sim, GHL_SANDBOX_LOCATION_2));
      expect((await other.listMessages({ with: '+15550000004' })).data).toEqual([]);
      const own = await messaging.listMessages({ with: '+15550000004', ours: '+15550001000' });
      expect(own.data).toMatchObject([
        { from: '+15550000004', to: '+15550001000', body: 'hi', status: 'received' },
      ]);
    });

    it('maps listing failures: retried 503 on a read, auth for an expired token', async () => {
      const conn = await ghlConnection(sim);
      const messaging = new GhlMessaging(conn);
      await sim.control('ghl/messages', { phone: '+15550000005', body: 'hi' });
      await sim.fault({
        vendor: 'ghl',
        status: 503,
        remaining: 1,
        pathIncludes: '/conversations/search',
      });
      expect((await messaging.listMessages({ with: '+15550000005' })).data).toHaveLength(1);
      await sim.fault({ vendor: 'ghl', status: 500, remaining: 2, pathIncludes: '/messages' });
      expect(
        await new GhlMessaging({ ...conn, maxRetries: 1 })
          .listMessages({ with: '+15550000005' })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'transient', status: 500 });
      await sim.control('ghl/tokens/expire', { accessToken: conn.token });
      expect(
        await messaging.listMessages({ with: '+15550000005' }).catch((e: unknown) => e),
      ).toMatchObject({ kind: 'auth', status: 401 });
    });
  });

  describe('GhlCalendar specifics', () => {
    it('books with a known contactId and refuses an attendee it cannot make a contact of', async () => {
      const crm = new GhlCrm(await ghlConnection(sim));
      const calendar = new GhlCalendar(await ghlConnection(sim));
      const { data } = await crm.upsertContact({ email: 'known@example.com' });
      const event = await calendar.createEvent({
        calendarId: 'cal_1',
        title: 'Known',
        start: '2026-12-01T14:00:00Z',
        end: '2026-12-01T15:00:00Z',
        timeZone: 'UTC',
        attendees: [{ contactId: data.contact.id }],
        location: 'Zoom',
      });
      expect(event.data.attendees).toEqual([{ contactId: data.contact.id }]);
      expect(event.data.location).toBe('Zoom');
      const listed = await calendar.listEvents({
        calendarId: 'cal_1',
        start: '2026-12-01T00:00:00Z',
        end: '2026-12-02T00:00:00Z',
      });
      expect(listed.data[0]).toMatchObject({
        timeZone: 'UTC',
        start: '2026-12-01T14:00:00Z',
        attendees: [{ contactId: data.contact.id }],
      });
      const refused = await calendar
        .createEvent({
          calendarId: 'cal_1',
          title: 'Nobody',
          start: '2026-12-01T16:00:00Z',
          end: '2026-12-01T17:00:00Z',
          timeZone: 'UTC',
          attendees: [{ name: 'No contact details' }],
        })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ kind: 'invalid', provider: 'gohighlevel' });
    });

    it('a double booking is refused as invalid; an appointment slot counts as busy', async () => {
      const calendar = new GhlCalendar(await ghlConnection(sim));
      await sim.control('ghl/slots', {
        calendarId: 'cal_1',
        startTime: '2026-12-05T14:00:00Z',
        endTime: '2026-12-05T15:00:00Z',
      });
      const error = await calendar
        .createEvent({
          calendarId: 'cal_1',
          title: 'Clash',
          start: '2026-12-05T14:30:00Z',
          end: '2026-12-05T15:30:00Z',
          timeZone: 'UTC',
          attendees: [{ phone: '+15550009999' }],
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'invalid', status: 400 });
      expect((error as Error).message).toContain('no longer available');
    });
  });

  describe('error mapping', () => {
    it('retries a 503 then succeeds (GET)', async () => {
      const crm = new GhlCrm(await ghlConnection(sim));
      const { data } = await crm.upsertContact({ email: 'retry@example.com' });
      await sim.fault({ vendor: 'ghl', status: 503, remaining: 1, pathIncludes: '/contacts/' });
      expect((await crm.getContact(data.contact.id)).data.id).toBe(data.contact.id);
    });

    it('a persistent 500 is transient after the retries', async () => {
      const crm = new GhlCrm(await ghlConnection(sim, GHL_SANDBOX_LOCATION, { maxRetries: 1 }));
      await sim.fault({ vendor: 'ghl', status: 500, remaining: 2 });
      expect(await crm.getContact('x').catch((e: unknown) => e)).toMatchObject({
        kind: 'transient',
        status: 500,
        providerCode: 'Internal Server Error',
      });
    });

    it('a POST without idempotency key is not retried after a 500', async () => {
      const crm = new GhlCrm(await ghlConnection(sim));
      const { data } = await crm.upsertContact({ email: 'once@example.com' });
      await sim.fault({ vendor: 'ghl', status: 500, remaining: 1, pathIncludes: '/notes' });
      expect(await crm.addNote(data.contact.id, 'x').catch((e: unknown) => e)).toMatchObject({
        kind: 'transient',
      });
    });

    it('429 with Retry-After is rate_limited (not waited for beyond the cap)', async () => {
      const crm = new GhlCrm(await ghlConnection(sim, GHL_SANDBOX_LOCATION, { maxRetries: 0 }));
      await sim.fault({ vendor: 'ghl', status: 429, retryAfterS: 7, remaining: 1 });
      expect(await crm.getContact('x').catch((e: unknown) => e)).toMatchObject({
        kind: 'rate_limited',
        status: 429,
        retryAfterMs: 7000,
      });
    });

    it('429 with a short Retry-After is retried', async () => {
      const crm = new GhlCrm(await ghlConnection(sim));
      await sim.fault({ vendor: 'ghl', status: 429, retryAfterS: 0, remaining: 1 });
      expect((await crm.searchContacts({ query: 'nobody' })).data).toEqual([]);
    });

    it('an expired token is auth (401, GoHighLevel body)', async () => {
      const conn = await ghlConnection(sim);
      await sim.control('ghl/tokens/expire', { accessToken: conn.token });
      const error = await new GhlCrm(conn).getContact('x').catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'auth', status: 401, providerCode: 'Unauthorized' });
      expect((error as Error).message).toContain('Invalid token: access token is invalid');
    });

    it('a Company token on a location route is auth (403)', async () => {
      const company = await sim.control<MintedTokens>('ghl/tokens', { userType: 'Company' });
      const crm = new GhlCrm({
        baseUrl: `${sim.url}/ghl`,
        accessToken: () => Promise.resolve(company.access_token),
        locationId: GHL_SANDBOX_LOCATION,
      });
      expect(await crm.getContact('x').catch((e: unknown) => e)).toMatchObject({
        kind: 'auth',
        status: 403,
      });
    });

    it('422 validation errors are invalid, with the messages joined', async () => {
      const crm = new GhlCrm(await ghlConnection(sim));
      const { data } = await crm.upsertContact({ email: 'v@example.com' });
      const error = await crm
        .createOpportunity({
          contactId: data.contact.id,
          pipelineId: 'p',
          stageId: 's',
          name: 'x',
          status: 'bogus' as 'open',
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        kind: 'invalid',
        status: 422,
        providerCode: 'Unprocessable Entity',
      });
      expect((error as Error).message).toContain('status must be one of');
    });

    it('a timeout is transient', async () => {
      const crm = new GhlCrm(
        await ghlConnection(sim, GHL_SANDBOX_LOCATION, { timeoutMs: 50, maxRetries: 0 }),
      );
      await sim.fault({ vendor: 'ghl', latencyMs: 300, remaining: 1 });
      const error = await crm.getContact('x').catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'transient' });
      expect((error as Error).message).toContain('did not answer within 50 ms');
    });

    it('never leaks the access token or client secret into errors', async () => {
      const conn = await ghlConnection(sim);
      await sim.control('ghl/tokens/expire', { accessToken: conn.token });
      const errors: unknown[] = [
        await new GhlCrm(conn).getContact('x').catch((e: unknown) => e),
        await new GhlMessaging(conn)
          .sendSms({ from: '+1', to: '+15550000003', body: 'x' })
          .catch((e: unknown) => e),
      ];
      const oauth = ghlOAuth({
        authorizeBaseUrl: `${sim.url}/ghl`,
        tokenBaseUrl: `${sim.url}/ghl`,
      });
      const secretClient = {
        clientId: GHL_SANDBOX_CLIENT.clientId,
        clientSecret: 'super-secret-value-123',
      };
      errors.push(
        await oauth
          .refresh({ client: secretClient, refreshToken: 'rt-secret-456' })
          .catch((e: unknown) => e),
      );
      errors.push(
        await oauth
          .refresh({ client: GHL_SANDBOX_CLIENT, refreshToken: 'rt-secret-456' })
          .catch((e: unknown) => e),
      );
      for (const error of errors) {
        expect(error).toBeInstanceOf(ProviderError);
        const textOf = errorText(error);
        for (const secret of [
          conn.token,
          'super-secret-value-123',
          'rt-secret-456',
          GHL_SANDBOX_CLIENT.clientSecret,
        ]) {
          expect(textOf).not.toContain(secret);
        }
      }
    });
  });

  describe('ghlOAuth', () => {
    const redirectUri = 'https://app.example.com/oauth/ghl/callback';
    const oauth = () =>
      ghlOAuth({ authorizeBaseUrl: `${sim.url}/ghl`, tokenBaseUrl: `${sim.url}/ghl` });

    async function authorize(url: string): Promise<{ code: string; state: string | null }> {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? '');
      expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
      return {
        code: location.searchParams.get('code') ?? '',
        state: location.searchParams.get('state'),
      };
    }

    it('builds the marketplace chooselocation URL (no PKCE)', () => {
      const provider = ghlOAuth({
        authorizeBaseUrl: 'https://marketplace.gohighlevel.com',
        tokenBaseUrl: 'https://services.leadconnectorhq.com',
      });
      expect(provider.supportsPkce).toBe(false);
      const url = new URL(
        provider.authorizeUrl({
          client: GHL_SANDBOX_CLIENT,
          redirectUri,
          state: 'st-1',
          scopes: ['contacts.readonly', 'contacts.write'],
          codeChallenge: 'ignored',
        }),
      );
      expect(`${url.origin}${url.pathname}`).toBe(
        'https://marketplace.gohighlevel.com/oauth/chooselocation',
      );
      expect(Object.fromEntries(url.searchParams)).toEqual({
        response_type: 'code',
        redirect_uri: redirectUri,
        client_id: GHL_SANDBOX_CLIENT.clientId,
        scope: 'contacts.readonly contacts.write',
        state: 'st-1',
      });
    });

    it('exchanges the code, then rotates refresh tokens (a used one is rejected as auth)', async () => {
      const provider = oauth();
      const { code, state } = await authorize(
        provider.authorizeUrl({
          client: GHL_SANDBOX_CLIENT,
          redirectUri,
          state: 'st-2',
          scopes: ['contacts.write'],
        }),
      );
      expect(state).toBe('st-2');
      const tokens = await provider.exchangeCode({ client: GHL_SANDBOX_CLIENT, code, redirectUri });
      expect(tokens).toMatchObject({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        scope: 'contacts.write',
        attributes: {
          userType: 'Location',
          companyId: GHL_SANDBOX_COMPANY,
          locationId: GHL_SANDBOX_LOCATION,
        },
      });
      const ttl = Date.parse(tokens.expiresAt ?? '') - Date.now();
      expect(ttl).toBeGreaterThan(86_000_000);
      expect(ttl).toBeLessThanOrEqual(86_399_000);

      // The code is single use.
      expect(
        await provider
          .exchangeCode({ client: GHL_SANDBOX_CLIENT, code, redirectUri })
          .catch((e: unknown) => e),
      ).toMatchObject({
        kind: 'auth',
        providerCode: 'invalid_grant',
      });

      // The access token works on the API.
      const crm = new GhlCrm({
        baseUrl: `${sim.url}/ghl`,
        accessToken: () => Promise.resolve(tokens.accessToken),
        locationId: GHL_SANDBOX_LOCATION,
      });
      expect((await crm.searchContacts({})).data).toEqual([]);

      const refreshed = await provider.refresh({
        client: GHL_SANDBOX_CLIENT,
        refreshToken: tokens.refreshToken ?? '',
      });
      expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
      expect(refreshed.accessToken).not.toBe(tokens.accessToken);
      const reused = await provider
        .refresh({ client: GHL_SANDBOX_CLIENT, refreshToken: tokens.refreshToken ?? '' })
        .catch((e: unknown) => e);
      expect(reused).toMatchObject({ kind: 'auth', status: 400, providerCode: 'invalid_grant' });
      // The new one works, once.
      await expect(
        provider.refresh({
          client: GHL_SANDBOX_CLIENT,
          refreshToken: refreshed.refreshToken ?? '',
        }),
      ).resolves.toMatchObject({ attributes: { userType: 'Location' } });
    });

    it('a wrong client secret is auth (invalid_client); a mismatched redirect_uri is auth (invalid_grant)', async () => {
      const provider = oauth();
      const { code } = await authorize(
        provider.authorizeUrl({ client: GHL_SANDBOX_CLIENT, redirectUri, state: 's', scopes: [] }),
      );
      expect(
        await provider
          .exchangeCode({
            client: { ...GHL_SANDBOX_CLIENT, clientSecret: 'wrong' },
            code,
            redirectUri,
          })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'auth', status: 401, providerCode: 'invalid_client' });
      expect(
        await provider
          .exchangeCode({
            client: GHL_SANDBOX_CLIENT,
            code,
            redirectUri: 'https://evil.example.com/cb',
          })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'auth', providerCode: 'invalid_grant' });
    });

    it('exchanges a Company token for a Location token', async () => {
      const provider = ghlOAuth({
        authorizeBaseUrl: `${sim.url}/ghl`,
        tokenBaseUrl: `${sim.url}/ghl`,
        userType: 'Company',
      });
      const url = new URL(
        provider.authorizeUrl({
          client: GHL_SANDBOX_CLIENT,
          redirectUri,
          state: 's',
          scopes: ['oauth.write'],
        }),
      );
      url.searchParams.set('user_type', 'Company'); // the agency picks "Company" on the page
      const { code } = await authorize(url.toString());
      const company = await provider.exchangeCode({
        client: GHL_SANDBOX_CLIENT,
        code,
        redirectUri,
      });
      expect(company.attributes).toEqual({ userType: 'Company', companyId: GHL_SANDBOX_COMPANY });

      const location = await provider.locationToken({
        companyAccessToken: company.accessToken,
        companyId: GHL_SANDBOX_COMPANY,
        locationId: GHL_SANDBOX_LOCATION_2,
      });
      expect(location).toMatchObject({
        accessToken: expect.any(String),
        attributes: {
          userType: 'Location',
          companyId: GHL_SANDBOX_COMPANY,
          locationId: GHL_SANDBOX_LOCATION_2,
        },
      });
      const crm = new GhlCrm({
        baseUrl: `${sim.url}/ghl`,
        accessToken: () => Promise.resolve(location.accessToken),
        locationId: GHL_SANDBOX_LOCATION_2,
      });
      expect((await crm.upsertContact({ email: 'agency@example.com' })).data.created).toBe(true);

      expect(
        await provider
          .locationToken({
            companyAccessToken: company.accessToken,
            companyId: GHL_SANDBOX_COMPANY,
            locationId: 'loc_other',
          })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'invalid', status: 400 });
      expect(
        await provider
          .locationToken({
            companyAccessToken: location.accessToken,
            companyId: GHL_SANDBOX_COMPANY,
            locationId: GHL_SANDBOX_LOCATION,
          })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'auth', status: 403 });
    });
  });
});

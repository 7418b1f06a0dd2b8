import { createHash, randomBytes } from 'node:crypto';
import { ProviderError } from '@maxai/core';
import { GoogleCalendar, googleOAuth, type GoogleCalendarOptions } from '@maxai/integrations';
import { GOOGLE_SANDBOX_CALENDAR, GOOGLE_SANDBOX_CLIENT, googleSimulator } from '@maxai/simulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalendarContract } from './contracts/calendar.contract';
import { errorText, startSimulator, type SimHarness } from './sim-harness';

async function googleConnection(
  sim: SimHarness,
  extra: Partial<GoogleCalendarOptions> = {},
): Promise<GoogleCalendarOptions & { token: string }> {
  const { access_token: token } = await sim.control<{ access_token: string }>('google/tokens');
  return {
    baseUrl: `${sim.url}/google`,
    accessToken: () => Promise.resolve(token),
    retryBaseMs: 1,
    token,
    ...extra,
  };
}

runCalendarContract('GoogleCalendar (Google simulator)', async () => {
  const sim = await startSimulator(googleSimulator());
  const calendarId = 'team@group.calendar.google.com';
  await sim.control('google/calendars', { id: calendarId, timeZone: 'Europe/London' });
  return {
    calendar: new GoogleCalendar(await googleConnection(sim)),
    calendarId,
    attendee: { email: 'lead@example.com', name: 'Lead Person' },
    seedBusy: async (id, start, end) => {
      await sim.control('google/busy', { calendarId: id, start, end });
    },
    teardown: () => sim.close(),
  };
});

describe('GoogleCalendar and googleOAuth against the simulator', () => {
  let sim: SimHarness;
  beforeAll(async () => {
    sim = await startSimulator(googleSimulator());
  });
  afterAll(async () => {
    await sim.close();
  });

  describe('GoogleCalendar specifics', () => {
    it('an idempotency key makes createEvent safe to replay: the same event comes back', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim));
      const input = {
        calendarId: 'primary',
        title: 'Once',
        start: '2026-11-02T10:00:00+01:00',
        end: '2026-11-02T11:00:00+01:00',
        timeZone: 'Europe/Paris',
        attendees: [{ email: 'a@example.com', name: 'A' }, { phone: '+15550000000' }],
        location: 'Paris',
      };
      const first = await calendar.createEvent(input, { idempotencyKey: 'book-42' });
      const again = await calendar.createEvent(input, { idempotencyKey: 'book-42' });
      expect(again.data.id).toBe(first.data.id);
      expect(first.data).toMatchObject({
        attendees: [{ email: 'a@example.com', name: 'A' }],
        location: 'Paris',
        timeZone: 'Europe/Paris',
        start: '2026-11-02T10:00:00+01:00',
      });
      const listed = await calendar.listEvents({
        calendarId: 'primary',
        start: '2026-11-02T00:00:00Z',
        end: '2026-11-03T00:00:00Z',
      });
      expect(listed.data).toHaveLength(1);
      // Without a zone, times come in the calendar's (primary: America/New_York).
      expect(listed.data[0]?.start).toBe('2026-11-02T04:00:00-05:00');
    });

    it('a 503 on insert with an idempotency key is retried; cancelling twice is fine', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim));
      await sim.fault({
        vendor: 'google',
        status: 503,
        remaining: 1,
        method: 'POST',
        pathIncludes: '/events',
      });
      const created = await calendar.createEvent(
        {
          calendarId: GOOGLE_SANDBOX_CALENDAR,
          title: 'Retried',
          start: '2026-11-03T10:00:00Z',
          end: '2026-11-03T11:00:00Z',
          timeZone: 'UTC',
        },
        { idempotencyKey: 'retry-1' },
      );
      await calendar.cancelEvent(GOOGLE_SANDBOX_CALENDAR, created.data.id);
      await expect(calendar.cancelEvent(GOOGLE_SANDBOX_CALENDAR, created.data.id)).resolves.toEqual(
        {
          data: null,
        },
      );
    });

    it('freeBusy of an unknown calendar (an error inside the 200) is not_found', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim));
      const error = await calendar
        .freeBusy({
          calendarIds: ['primary', 'unknown@example.com'],
          start: '2026-11-01T00:00:00Z',
          end: '2026-11-02T00:00:00Z',
          timeZone: 'UTC',
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'not_found', providerCode: 'notFound', status: 200 });
    });
  });

  describe('error mapping', () => {
    const range = {
      calendarId: 'primary',
      start: '2026-10-01T00:00:00Z',
      end: '2026-10-02T00:00:00Z',
    };

    it('retries a 500 on a read, then succeeds', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim));
      await sim.fault({ vendor: 'google', status: 500, remaining: 2 });
      expect((await calendar.listEvents(range)).data).toEqual([]);
    });

    it('a persistent 503 is transient with Google reason backendError', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim, { maxRetries: 0 }));
      await sim.fault({ vendor: 'google', status: 503, remaining: 1 });
      expect(await calendar.listEvents(range).catch((e: unknown) => e)).toMatchObject({
        kind: 'transient',
        status: 503,
        providerCode: 'backendError',
      });
    });

    it('429 with Retry-After is rate_limited', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim, { maxRetries: 0 }));
      await sim.fault({ vendor: 'google', status: 429, retryAfterS: 3, remaining: 1 });
      expect(await calendar.listEvents(range).catch((e: unknown) => e)).toMatchObject({
        kind: 'rate_limited',
        retryAfterMs: 3000,
        providerCode: 'rateLimitExceeded',
      });
    });

    it('an expired token is auth (authError)', async () => {
      const conn = await googleConnection(sim);
      await sim.control('google/tokens/expire', { accessToken: conn.token });
      const error = await new GoogleCalendar(conn).listEvents(range).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'auth', status: 401, providerCode: 'authError' });
      expect(errorText(error)).not.toContain(conn.token);
    });

    it('a 400 is invalid (Google reason), as are times and zones we cannot read', async () => {
      const calendar = new GoogleCalendar(await googleConnection(sim));
      expect(
        await calendar
          .freeBusy({
            calendarIds: ['primary'],
            start: '2026-10-02T00:00:00Z',
            end: '2026-10-01T00:00:00Z',
            timeZone: 'UTC',
          })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'invalid', status: 400, providerCode: 'timeRangeEmpty' });
      const event = {
        calendarId: 'primary',
        title: 'x',
        start: '2026-10-01T10:00:00Z',
        end: '2026-10-01T11:00:00Z',
      };
      expect(
        await calendar
          .createEvent({ ...event, start: 'garbage', timeZone: 'UTC' })
          .catch((e: unknown) => e),
      ).toMatchObject({ kind: 'invalid', provider: 'google' });
      expect(
        await calendar.createEvent({ ...event, timeZone: 'Mars/Olympus' }).catch((e: unknown) => e),
      ).toMatchObject({ kind: 'invalid', provider: 'google' });
    });

    it('a timeout is transient', async () => {
      const calendar = new GoogleCalendar(
        await googleConnection(sim, { timeoutMs: 50, maxRetries: 0 }),
      );
      await sim.fault({ vendor: 'google', latencyMs: 300, remaining: 1 });
      expect(await calendar.listEvents(range).catch((e: unknown) => e)).toMatchObject({
        kind: 'transient',
      });
    });
  });

  describe('googleOAuth', () => {
    const redirectUri = 'https://app.example.com/oauth/google/callback';
    const provider = () =>
      googleOAuth({ authorizeBaseUrl: `${sim.url}/google`, tokenBaseUrl: `${sim.url}/google` });
    const pkce = () => {
      const verifier = randomBytes(32).toString('base64url');
      return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
    };
    async function authorize(url: string): Promise<URL> {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location') ?? '');
    }

    it('builds the authorize URL with PKCE S256, offline access and forced consent', () => {
      const p = googleOAuth();
      expect(p.supportsPkce).toBe(true);
      const url = new URL(
        p.authorizeUrl({
          client: GOOGLE_SANDBOX_CLIENT,
          redirectUri,
          state: 'st',
          scopes: ['openid', 'https://www.googleapis.com/auth/calendar'],
          codeChallenge: 'abc',
        }),
      );
      expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        client_id: GOOGLE_SANDBOX_CLIENT.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid https://www.googleapis.com/auth/calendar',
        state: 'st',
        access_type: 'offline',
        prompt: 'consent',
        include_granted_scopes: 'true',
        code_challenge: 'abc',
        code_challenge_method: 'S256',
      });
      expect(
        p.authorizeUrl({ client: GOOGLE_SANDBOX_CLIENT, redirectUri, state: 's', scopes: [] }),
      ).not.toContain('code_challenge');
    });

    it('exchanges a code with the right verifier; refresh keeps the refresh token', async () => {
      const p = provider();
      const { verifier, challenge } = pkce();
      const back = await authorize(
        p.authorizeUrl({
          client: GOOGLE_SANDBOX_CLIENT,
          redirectUri,
          state: 'st-9',
          scopes: ['https://www.googleapis.com/auth/calendar'],
          codeChallenge: challenge,
        }),
      );
      expect(back.searchParams.get('state')).toBe('st-9');
      const code = back.searchParams.get('code') ?? '';
      const tokens = await p.exchangeCode({
        client: GOOGLE_SANDBOX_CLIENT,
        code,
        redirectUri,
        codeVerifier: verifier,
      });
      expect(tokens).toMatchObject({
        accessToken: expect.stringMatching(/^ya29\./),
        refreshToken: expect.any(String),
        scope: 'https://www.googleapis.com/auth/calendar',
        attributes: {},
      });
      const calendar = new GoogleCalendar({
        baseUrl: `${sim.url}/google`,
        accessToken: () => Promise.resolve(tokens.accessToken),
      });
      await expect(
        calendar.listEvents({
          calendarId: 'primary',
          start: '2027-01-01T00:00:00Z',
          end: '2027-01-02T00:00:00Z',
        }),
      ).resolves.toEqual({ data: [] });

      const refreshed = await p.refresh({
        client: GOOGLE_SANDBOX_CLIENT,
        refreshToken: tokens.refreshToken ?? '',
      });
      expect(refreshed.refreshToken).toBe(tokens.refreshToken);
      expect(refreshed.accessToken).not.toBe(tokens.accessToken);
      expect(Date.parse(refreshed.expiresAt ?? '') - Date.now()).toBeGreaterThan(3_500_000);
    });

    it('a wrong code_verifier is invalid_grant (auth), and the code stays unusable to others', async () => {
      const p = provider();
      const { challenge } = pkce();
      const back = await authorize(
        p.authorizeUrl({
          client: GOOGLE_SANDBOX_CLIENT,
          redirectUri,
          state: 's',
          scopes: ['x'],
          codeChallenge: challenge,
        }),
      );
      const code = back.searchParams.get('code') ?? '';
      const wrong = await p
        .exchangeCode({
          client: GOOGLE_SANDBOX_CLIENT,
          code,
          redirectUri,
          codeVerifier: pkce().verifier,
        })
        .catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ProviderError);
      expect(wrong).toMatchObject({ kind: 'auth', status: 400, providerCode: 'invalid_grant' });
      expect((wrong as Error).message).toContain('Invalid code verifier.');
      const missing = await p
        .exchangeCode({ client: GOOGLE_SANDBOX_CLIENT, code, redirectUri })
        .catch((e: unknown) => e);
      expect(missing).toMatchObject({ providerCode: 'invalid_grant' });
    });

    it('an unknown refresh token is invalid_grant (auth); a wrong secret is invalid_client; nothing leaks', async () => {
      const p = provider();
      const revoked = await p
        .refresh({ client: GOOGLE_SANDBOX_CLIENT, refreshToken: '1//revoked-secret-token' })
        .catch((e: unknown) => e);
      expect(revoked).toMatchObject({ kind: 'auth', providerCode: 'invalid_grant' });
      expect((revoked as Error).message).toContain('Token has been expired or revoked.');
      const badClient = await p
        .refresh({
          client: { ...GOOGLE_SANDBOX_CLIENT, clientSecret: 'not-the-secret-789' },
          refreshToken: 'x',
        })
        .catch((e: unknown) => e);
      expect(badClient).toMatchObject({
        kind: 'auth',
        status: 401,
        providerCode: 'invalid_client',
      });
      for (const error of [revoked, badClient]) {
        const textOf = errorText(error);
        for (const secret of [
          '1//revoked-secret-token',
          'not-the-secret-789',
          GOOGLE_SANDBOX_CLIENT.clientSecret,
        ]) {
          expect(textOf).not.toContain(secret);
        }
      }
    });
  });
});

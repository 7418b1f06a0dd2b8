import { createHash } from 'node:crypto';
import {
  createSimulatorServer,
  GOOGLE_SANDBOX_CALENDAR,
  GOOGLE_SANDBOX_CLIENT,
  googleErrorBody,
  googleSimulator,
  type SimulatorServer,
} from '@maxai/simulators';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver } from './receiver';

describe('Google simulator fidelity', () => {
  let server: SimulatorServer;
  let url: string;
  let token: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const redirectUri = 'https://app.example.com/cb';

  const call = async (method: string, path: string, body?: unknown, auth = true) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };
  const form = async (body: Record<string, string>) => {
    const res = await fetch(`${url}/google/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const client = {
    client_id: GOOGLE_SANDBOX_CLIENT.clientId,
    client_secret: GOOGLE_SANDBOX_CLIENT.clientSecret,
  };
  const authorize = async (query: Record<string, string>) => {
    const res = await call(
      'GET',
      `/google/o/oauth2/v2/auth?${new URLSearchParams(query).toString()}`,
    );
    return { status: res.status, location: new URL(res.headers.get('location') ?? 'http://none/') };
  };
  const baseAuth = {
    client_id: GOOGLE_SANDBOX_CLIENT.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 's',
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await createSimulatorServer({
      vendors: [googleSimulator()],
      publicUrl: 'http://127.0.0.1:9',
    });
    url = await server.listen(0);
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });
  beforeEach(async () => {
    await call('POST', '/_control/reset');
    token = String((await call('POST', '/_control/google/tokens', {})).body.access_token);
  });

  it('answers 401 with Google’s error body for a missing token', async () => {
    const res = await call('GET', '/google/calendar/v3/calendars/primary/events', undefined, false);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      error: {
        code: 401,
        status: 'UNAUTHENTICATED',
        errors: [{ domain: 'global', reason: 'authError' }],
      },
    });
    expect(googleErrorBody(418, 'teapot')).toEqual({
      error: {
        code: 418,
        message: 'teapot',
        errors: [{ domain: 'global', reason: 'unknown', message: 'teapot' }],
        status: 'UNKNOWN',
      },
    });
  });

  it('every Calendar route answers 401 without a valid token', async () => {
    token = 'nope';
    const routes: [string, string][] = [
      ['POST', '/google/calendar/v3/freeBusy'],
      ['GET', '/google/calendar/v3/calendars/primary/events'],
      ['POST', '/google/calendar/v3/calendars/primary/events'],
      ['GET', '/google/calendar/v3/calendars/primary/events/x'],
      ['DELETE', '/google/calendar/v3/calendars/primary/events/x'],
    ];
    for (const [method, path] of routes) {
      const res = await call(method, path, method === 'POST' ? {} : undefined);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });

  it('authorize without a scope; an insert with offsets only takes the calendar zone', async () => {
    const { scope: _scope, ...noScope } = baseAuth;
    const back = await authorize(noScope);
    expect(back.location.searchParams.get('scope')).toBe('');
    const made = await call('POST', '/google/calendar/v3/calendars/primary/events', {
      start: { dateTime: '2026-06-01T10:00:00Z' },
      end: { dateTime: '2026-06-01T11:00:00Z' },
    });
    expect(made.body).toMatchObject({
      summary: '',
      attendees: [],
      start: { dateTime: '2026-06-01T06:00:00-04:00', timeZone: 'America/New_York' },
    });
  });

  it('OAuth: only the first consent yields a refresh token unless prompt=consent', async () => {
    const first = await authorize({ ...baseAuth, access_type: 'offline', state: 'a' });
    const second = await authorize({ ...baseAuth, access_type: 'offline' });
    const exchange = async (loc: URL) =>
      form({
        ...client,
        grant_type: 'authorization_code',
        code: loc.searchParams.get('code') ?? '',
        redirect_uri: redirectUri,
      });
    expect((await exchange(first.location)).body.refresh_token).toEqual(expect.any(String));
    const again = await exchange(second.location);
    expect(again.body.refresh_token).toBeUndefined();
    expect(again.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(await exchange(second.location)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('OAuth: refuses bad requests the way Google does', async () => {
    expect((await authorize({ ...baseAuth, client_id: 'unknown' })).status).toBe(400);
    const wrongType = await authorize({ ...baseAuth, response_type: 'token', state: 's' });
    expect(wrongType.location.searchParams.get('error')).toBe('unsupported_response_type');
    const plain = await authorize({
      ...baseAuth,
      code_challenge: 'abc',
      code_challenge_method: 'plain',
    });
    expect(plain.location.searchParams.get('error')).toBe('invalid_request');
    const ok = await authorize({
      ...baseAuth,
      code_challenge: createHash('sha256').update('v').digest('base64url'),
      code_challenge_method: 'S256',
    });
    const code = ok.location.searchParams.get('code') ?? '';
    expect(
      await form({
        ...client,
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'https://other/cb',
      }),
    ).toMatchObject({
      status: 400,
      body: { error: 'redirect_uri_mismatch' },
    });
    expect(
      await form({
        ...client,
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: 'v',
      }),
    ).toMatchObject({
      status: 200,
    });
    expect(await form({ ...client, grant_type: 'client_credentials' })).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    expect(
      await form({ client_id: 'x', client_secret: 'y', grant_type: 'refresh_token' }),
    ).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('events: insert validation, client ids, get, delete 204 then 410, showDeleted', async () => {
    const path = `/google/calendar/v3/calendars/primary/events`;
    expect(await call('POST', '/google/calendar/v3/calendars/nope/events', {})).toMatchObject({
      status: 404,
    });
    expect(await call('POST', path, { end: { dateTime: '2026-01-01T10:00:00Z' } })).toMatchObject({
      status: 400,
      body: { error: { message: 'Missing start time.', errors: [{ reason: 'required' }] } },
    });
    expect(await call('POST', path, { start: { dateTime: '2026-01-01T10:00:00Z' } })).toMatchObject(
      {
        status: 400,
        body: { error: { message: 'Missing end time.' } },
      },
    );
    expect(
      await call('POST', path, {
        start: { dateTime: '2026-01-01T10:00:00' },
        end: { dateTime: '2026-01-01T11:00:00Z' },
      }),
    ).toMatchObject({ status: 400 });
    expect(
      await call('POST', path, {
        start: { dateTime: 'nonsense', timeZone: 'UTC' },
        end: { dateTime: '2026-01-01T11:00:00Z' },
      }),
    ).toMatchObject({ status: 400 });
    expect(
      await call('POST', path, {
        start: { dateTime: 'nonsenseZ' },
        end: { dateTime: '2026-01-01T11:00:00Z' },
      }),
    ).toMatchObject({ status: 400 });
    expect(
      await call('POST', path, {
        start: { dateTime: '2026-01-01T10:00:00Z', timeZone: 'Nowhere/Land' },
        end: { dateTime: '2026-01-01T11:00:00Z' },
      }),
    ).toMatchObject({ status: 400 });
    expect(
      await call('POST', path, {
        id: 'UPPER',
        start: { dateTime: '2026-01-01T10:00:00Z' },
        end: { dateTime: '2026-01-01T11:00:00Z' },
      }),
    ).toMatchObject({ status: 400, body: { error: { errors: [{ reason: 'invalid' }] } } });
    // Local wall time read in the given zone (across the DST change of 2026-03-08 in New York).
    const local = await call('POST', path, {
      id: 'abc12345',
      status: 'tentative',
      attendees: [{ email: 'x@example.com' }, { displayName: 'no email' }],
      start: { dateTime: '2026-03-08T09:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2026-03-08T10:00:00', timeZone: 'America/New_York' },
    });
    expect(local).toMatchObject({
      status: 200,
      body: {
        id: 'abc12345',
        status: 'tentative',
        start: { dateTime: '2026-03-08T09:00:00-04:00', timeZone: 'America/New_York' },
        attendees: [{ email: 'x@example.com', responseStatus: 'needsAction' }],
      },
    });
    expect(
      await call('POST', path, {
        id: 'abc12345',
        start: { dateTime: '2026-01-01T10:00:00Z' },
        end: { dateTime: '2026-01-01T11:00:00Z' },
      }),
    ).toMatchObject({ status: 409, body: { error: { errors: [{ reason: 'duplicate' }] } } });
    expect(await call('GET', `${path}/abc12345?timeZone=UTC`)).toMatchObject({
      status: 200,
      body: { start: { dateTime: '2026-03-08T13:00:00Z' } },
    });
    expect(await call('GET', `${path}/nope`)).toMatchObject({ status: 404 });
    expect(await call('DELETE', `${path}/abc12345`)).toMatchObject({ status: 204 });
    expect(await call('DELETE', `${path}/abc12345`)).toMatchObject({
      status: 410,
      body: { error: { errors: [{ reason: 'deleted' }] } },
    });
    expect(await call('DELETE', `${path}/nope`)).toMatchObject({ status: 404 });
    const hidden = await call(
      'GET',
      `${path}?timeMin=2026-03-08T00:00:00Z&timeMax=2026-03-09T00:00:00Z`,
    );
    expect(hidden.body.items).toEqual([]);
    const shown = await call('GET', `${path}?showDeleted=true`);
    expect(shown.body.items).toMatchObject([{ id: 'abc12345', status: 'cancelled' }]);
    expect(await call('GET', `${path}?timeMin=garbage`)).toMatchObject({ status: 400 });
    expect(await call('GET', `${path}?timeZone=Nowhere/Land`)).toMatchObject({ status: 400 });
    expect(await call('GET', '/google/calendar/v3/calendars/nope/events')).toMatchObject({
      status: 404,
    });
  });

  it('freeBusy: clipped busy intervals, per-calendar errors inside a 200, bad ranges', async () => {
    await call('POST', '/_control/google/busy', {
      start: '2026-05-01T08:00:00Z',
      end: '2026-05-01T10:00:00Z',
    });
    expect(await call('POST', '/_control/google/busy', { calendarId: 'nope' })).toMatchObject({
      status: 400,
    });
    const res = await call('POST', '/google/calendar/v3/freeBusy', {
      timeMin: '2026-05-01T09:00:00Z',
      timeMax: '2026-05-02T00:00:00Z',
      items: [{ id: 'primary' }, { id: 'missing@example.com' }],
    });
    expect(res.body).toMatchObject({
      kind: 'calendar#freeBusy',
      calendars: {
        primary: { busy: [{ start: '2026-05-01T09:00:00Z', end: '2026-05-01T10:00:00Z' }] },
        'missing@example.com': { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] },
      },
    });
    expect(
      await call('POST', '/google/calendar/v3/freeBusy', { timeMin: 'x', timeMax: 'y' }),
    ).toMatchObject({ status: 400 });
    expect(
      await call('POST', '/google/calendar/v3/freeBusy', {
        timeMin: '2026-05-02T00:00:00Z',
        timeMax: '2026-05-01T00:00:00Z',
      }),
    ).toMatchObject({ status: 400, body: { error: { errors: [{ reason: 'timeRangeEmpty' }] } } });
    expect(
      await call('POST', '/google/calendar/v3/freeBusy', {
        timeMin: '2026-05-01T00:00:00Z',
        timeMax: '2026-05-02T00:00:00Z',
      }),
    ).toMatchObject({
      status: 200,
      body: { calendars: {} },
    });
  });

  it('control: calendars, expiring unknown tokens', async () => {
    expect(await call('POST', '/_control/google/calendars', {})).toMatchObject({
      status: 201,
      body: { id: expect.stringMatching(/@group\.calendar\.google\.com$/), timeZone: 'UTC' },
    });
    expect(
      await call('POST', '/_control/google/tokens/expire', { accessToken: 'nope' }),
    ).toMatchObject({ status: 404 });
    expect(
      await call('POST', '/_control/google/tokens/expire', { accessToken: token }),
    ).toMatchObject({ status: 200 });
    expect(
      await call('GET', `/google/calendar/v3/calendars/${GOOGLE_SANDBOX_CALENDAR}/events`),
    ).toMatchObject({ status: 401 });
  });

  it('sends push notifications: empty body, X-Goog-* headers', async () => {
    const sent = await call('POST', '/_control/google/push', {
      url: receiver.url,
      channelId: 'chan-1',
      channelToken: 'tenant=t1',
      resourceId: 'res-1',
      resourceState: 'sync',
      messageNumber: 1,
      channelExpiration: 'Tue, 01 Dec 2026 00:00:00 GMT',
    });
    expect(sent).toMatchObject({ status: 201, body: { vendor: 'google', status: 200 } });
    const got = receiver.received.at(-1);
    expect(got?.body).toBe('');
    expect(got?.headers).toMatchObject({
      'x-goog-channel-id': 'chan-1',
      'x-goog-channel-token': 'tenant=t1',
      'x-goog-resource-id': 'res-1',
      'x-goog-resource-state': 'sync',
      'x-goog-message-number': '1',
      'x-goog-channel-expiration': 'Tue, 01 Dec 2026 00:00:00 GMT',
    });
    expect(got?.headers['x-goog-resource-uri']).toContain('/calendar/v3/calendars/');
    const defaults = await call('POST', '/_control/google/push', {
      channelId: 'c',
      resourceId: 'r',
    });
    expect(defaults.body).toMatchObject({
      url: 'http://127.0.0.1:9/webhooks/google',
      headers: { 'x-goog-resource-state': 'exists', 'x-goog-message-number': '1' },
    });
    expect(await call('POST', '/_control/google/push', {})).toMatchObject({ status: 400 });
  });
});

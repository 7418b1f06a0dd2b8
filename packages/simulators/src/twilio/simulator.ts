import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SentWebhook } from '../webhooks';
import type { SimulatorContext, VendorSimulator } from '../server';
import {
  TWILIO_CALL_END_STATUSES,
  TWILIO_DIAL_CALL_STATUSES,
  twilioDialActionParams,
  twilioInboundCallStatusParams,
  type TwilioCallEndStatus,
  type TwilioDialCallStatus,
} from './call-status';
import { twilioSignature, twilioSignedJsonUrl } from './signature';

/** The account every fresh simulator knows (sandbox demo and tests may register more). */
export const TWILIO_SIM_ACCOUNT = {
  accountSid: `AC${'5'.repeat(32)}`,
  authToken: 'f'.repeat(32),
  phoneNumber: '+15005550006',
} as const;

/** Simulated US price per segment (twilio.com/en-us/sms/pricing/us: ~$0.0079–0.0083). */
export const TWILIO_SIM_PRICE_PER_SEGMENT = 0.0079;

const API_VERSION = '2010-04-01';
const E164 = /^\+[1-9]\d{6,14}$/;
// Twilio's test-credential magic numbers (twilio.com/docs/iam/test-credentials): recipients
// that fail the way real ones do.
const MAGIC_TO_ERRORS: Record<string, { code: number; message: string }> = {
  '+15005550001': {
    code: 21211,
    message: "The 'To' number +15005550001 is not a valid phone number.",
  },
  '+15005550002': {
    code: 21612,
    message: "The 'To' phone number is not currently reachable via SMS.",
  },
  '+15005550003': {
    code: 21408,
    message:
      "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550003.",
  },
  '+15005550004': { code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  '+15005550009': { code: 21614, message: "'To' number is not a valid mobile number" },
};

type TwilioStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

interface Account {
  accountSid: string;
  authToken: string;
  numbers: Set<string>;
}

interface StoredMessage {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  status: TwilioStatus;
  direction: 'outbound-api' | 'inbound';
  numSegments: number;
  numMedia: number;
  price: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  statusCallback: string | undefined;
}

export interface TwilioSimulatorOptions {
  /** Delay between the automatic queued → sent → delivered steps; `null`: only by control. */
  stepDelayMs?: number | null;
}

/** Twilio's JSON error body (twilio.com/docs/usage/twilios-response#response-formats-exceptions). */
export function twilioError(
  status: number,
  code: number,
  message: string,
): Record<string, unknown> {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${String(code)}`, status };
}

const STATUS_CODES: Record<number, number> = {
  401: 20003,
  403: 20403,
  404: 20404,
  429: 20429,
  500: 20500,
  503: 20503,
};

/** RFC 2822 as Twilio writes it: `Thu, 24 Aug 2023 05:01:45 +0000`. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

// GSM 03.38 basic set and extension table (twilio.com/docs/glossary/what-is-gsm-7-character-encoding).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';

/**
 * Segments Twilio bills a body as (twilio.com/docs/glossary/what-sms-character-limit): GSM-7
 * 160 septets alone or 153 per part, else UCS-2 70 code units alone or 67 per part.
 */
export function twilioSegments(body: string): number {
  let septets = 0;
  for (const char of body) {
    if (GSM_BASIC.includes(char)) septets += 1;
    else if (GSM_EXTENSION.includes(char)) septets += 2;
    else return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}

/**
 * Twilio Programmable Messaging, the subset the adapter calls (twilio.com/docs/messaging/api/
 * message-resource): create, fetch and list Messages with HTTP Basic auth `AccountSid:AuthToken`.
 * Messages progress queued → sent → delivered and post signed status callbacks; the control
 * API registers accounts and numbers, forces a status, seeds message history, and sends signed
 * inbound-SMS webhooks and the status callbacks of inbound calls ending.
 */
export function twilioSimulator(options: TwilioSimulatorOptions = {}): VendorSimulator {
  const accounts = new Map<string, Account>();
  const messages = new Map<string, StoredMessage>();
  const timers = new Set<NodeJS.Timeout>();
  let stepDelayMs = options.stepDelayMs === undefined ? 200 : options.stepDelayMs;

  const seed = (): void => {
    accounts.set(TWILIO_SIM_ACCOUNT.accountSid, {
      accountSid: TWILIO_SIM_ACCOUNT.accountSid,
      authToken: TWILIO_SIM_ACCOUNT.authToken,
      numbers: new Set([TWILIO_SIM_ACCOUNT.phoneNumber]),
    });
  };
  seed();

  const resource = (m: StoredMessage): Record<string, unknown> => {
    const uri = `/${API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}`;
    return {
      account_sid: m.accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      date_updated: rfc2822(m.dateUpdated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.from,
      messaging_service_sid: null,
      num_media: String(m.numMedia),
      num_segments: String(m.numSegments),
      price: m.price,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `${uri}/Media.json` },
      to: m.to,
      uri: `${uri}.json`,
    };
  };

  /** A webhook as Twilio posts it: form-encoded, signed with the account's auth token. */
  const postForm = (
    context: SimulatorContext,
    account: Account,
    url: string,
    params: Record<string, string>,
  ): Promise<SentWebhook> =>
    context.webhooks.send('twilio', url, new URLSearchParams(params).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(account.authToken, url, params),
      'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
      'user-agent': 'TwilioProxy/1.1',
    });

  /** Moves a message on and posts its status callback (form-encoded, signed). */
  const setStatus = async (
    context: SimulatorContext,
    m: StoredMessage,
    status: TwilioStatus,
    errorCode?: number,
  ): Promise<SentWebhook | undefined> => {
    m.status = status;
    m.dateUpdated = new Date();
    if (status === 'sent' && !m.dateSent) {
      m.dateSent = m.dateUpdated;
      m.price = (-TWILIO_SIM_PRICE_PER_SEGMENT * m.numSegments).toFixed(5);
    }
    if (errorCode !== undefined) {
      m.errorCode = errorCode;
      m.errorMessage = `Simulated error ${String(errorCode)}`;
    }
    if (!m.statusCallback) return undefined;
    const account = accounts.get(m.accountSid);
    /* v8 ignore next -- accounts are never removed while messages exist */
    if (!account) return undefined;
    // Status callback parameters: twilio.com/docs/messaging/guides/track-outbound-message-status
    const params: Record<string, string> = {
      AccountSid: m.accountSid,
      ApiVersion: API_VERSION,
      From: m.from,
      MessageSid: m.sid,
      MessageStatus: status,
      SmsSid: m.sid,
      SmsStatus: status,
      To: m.to,
    };
    if (m.errorCode !== null) params.ErrorCode = String(m.errorCode);
    return postForm(context, account, m.statusCallback, params);
  };

  const schedule = (context: SimulatorContext, m: StoredMessage): void => {
    if (stepDelayMs === null) return;
    const delay = stepDelayMs;
    const step = (next: TwilioStatus, then?: TwilioStatus): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        // A status forced through the control API takes the message over.
        if (m.status !== (next === 'sent' ? 'queued' : 'sent')) return;
        void setStatus(context, m, next).then(() => {
          if (then) step(then);
        });
      }, delay);
      timer.unref();
      timers.add(timer);
    };
    step('sent', 'delivered');
  };

  /** HTTP Basic `AccountSid:AuthToken` (twilio.com/docs/usage/requests-to-twilio#credentials). */
  const authenticate = (request: FastifyRequest, reply: FastifyReply): Account | undefined => {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1] ?? '', 'base64').toString('utf-8') : '';
    const colon = decoded.indexOf(':');
    const account = colon > 0 ? accounts.get(decoded.slice(0, colon)) : undefined;
    if (account?.authToken !== decoded.slice(colon + 1)) {
      void reply.code(401).send({
        ...twilioError(401, 20003, 'Authenticate'),
        detail: 'Your AccountSid or AuthToken was incorrect.',
      });
      return undefined;
    }
    return account;
  };

  const notFound = (reply: FastifyReply, path: string): FastifyReply =>
    reply.code(404).send(twilioError(404, 20404, `The requested resource ${path} was not found`));

  const invalid = (reply: FastifyReply, code: number, message: string): FastifyReply =>
    reply.code(400).send(twilioError(400, code, message));

  return {
    prefix: 'twilio',
    errorBody(status, message) {
      return twilioError(status, STATUS_CODES[status] ?? 20001, message);
    },
    reset() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      accounts.clear();
      messages.clear();
      stepDelayMs = options.stepDelayMs === undefined ? 200 : options.stepDelayMs;
      seed();
    },

    api(app: FastifyInstance, context: SimulatorContext) {
      app.post<{
        Params: { AccountSid: string };
        Body: Record<string, string | string[]> | undefined;
      }>(`/${API_VERSION}/Accounts/:AccountSid/Messages.json`, async (request, reply) => {
        const account = authenticate(request, reply);
        if (!account) return reply;
        if (account.accountSid !== request.params.AccountSid) {
          return notFound(reply, request.url.replace(/^\/twilio/, ''));
        }
        const form = request.body ?? {};
        const field = (name: string): string | undefined => {
          const value = form[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const to = field('To');
        const from = field('From');
        const body = field('Body') ?? '';
        const mediaUrls = form.MediaUrl === undefined ? [] : [form.MediaUrl].flat();
        // Validation errors: twilio.com/docs/api/errors (21604, 21211, 21603, 21606, 21602, 21617, 21266)
        if (!to) return invalid(reply, 21604, "A 'To' phone number is required.");
        if (!E164.test(to)) {
          return invalid(reply, 21211, `The 'To' number ${to} is not a valid phone number.`);
        }
        const magic = MAGIC_TO_ERRORS[to];
        if (magic) return invalid(reply, magic.code, magic.message);
        if (!from) return invalid(reply, 21603, "A 'From' phone number is required.");
        if (!account.numbers.has(from)) {
          return invalid(
            reply,
            21606,
            `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
          );
        }
        if (to === from) return invalid(reply, 21266, "'To' and 'From' number cannot be the same");
        if (body === '' && mediaUrls.length === 0) {
          return invalid(reply, 21602, 'Message body is required.');
        }
        if (body.length > 1600) {
          return invalid(
            reply,
            21617,
            'The concatenated message body exceeds the 1600 character limit.',
          );
        }
        const now = new Date();
        const message: StoredMessage = {
          sid: `SM${randomBytes(16).toString('hex')}`,
          accountSid: account.accountSid,
          from,
          to,
          body,
          status: 'queued',
          direction: 'outbound-api',
          numSegments: twilioSegments(body),
          numMedia: mediaUrls.length,
          price: null,
          errorCode: null,
          errorMessage: null,
          dateCreated: now,
          dateUpdated: now,
          dateSent: null,
          statusCallback: field('StatusCallback'),
        };
        messages.set(message.sid, message);
        schedule(context, message);
        return reply.code(201).send(resource(message));
      });

      /**
       * Read multiple Message resources (twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources):
       * the account's messages, optionally only those `To` and/or `From` a number (exact match),
       * most recent `DateSent` first (not yet sent: by creation), `PageSize` per page (default 50,
       * at most 1000) and `Page` (from 0), in Twilio's list envelope: `messages`, `page`,
       * `page_size`, `start`, `end`, `uri`, `first_page_uri`, `next_page_uri` (null on the last
       * page), `previous_page_uri`.
       */
      app.get<{
        Params: { AccountSid: string };
        Querystring: Record<string, string | string[] | undefined>;
      }>(`/${API_VERSION}/Accounts/:AccountSid/Messages.json`, async (request, reply) => {
        const account = authenticate(request, reply);
        if (!account) return reply;
        if (account.accountSid !== request.params.AccountSid) {
          return notFound(reply, request.url.replace(/^\/twilio/, ''));
        }
        const param = (name: string): string | undefined => {
          const value = request.query[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const to = param('To');
        const from = param('From');
        const pageSize = Number(param('PageSize') ?? 50);
        const page = Number(param('Page') ?? 0);
        // Out-of-range paging answers a 400 (the code is not documented: 20001, *unverified*).
        if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
          return invalid(reply, 20001, 'PageSize must be an integer between 1 and 1000');
        }
        if (!Number.isInteger(page) || page < 0) {
          return invalid(reply, 20001, 'Page must be a non-negative integer');
        }
        const when = (m: StoredMessage): number => (m.dateSent ?? m.dateCreated).getTime();
        // Later-created first among equal dates: reverse insertion order, then a stable sort.
        const matching = [...messages.values()]
          .filter(
            (m) =>
              m.accountSid === account.accountSid &&
              (to === undefined || m.to === to) &&
              (from === undefined || m.from === from),
          )
          .reverse()
          .sort((a, b) => when(b) - when(a));
        const start = page * pageSize;
        const items = matching.slice(start, start + pageSize);
        const listUri = (n: number): string => {
          const query = new URLSearchParams();
          if (to !== undefined) query.set('To', to);
          if (from !== undefined) query.set('From', from);
          query.set('PageSize', String(pageSize));
          query.set('Page', String(n));
          return `/${API_VERSION}/Accounts/${account.accountSid}/Messages.json?${query.toString()}`;
        };
        return {
          end: items.length === 0 ? start : start + items.length - 1,
          first_page_uri: listUri(0),
          messages: items.map(resource),
          next_page_uri: start + pageSize < matching.length ? listUri(page + 1) : null,
          page,
          page_size: pageSize,
          previous_page_uri: page > 0 ? listUri(page - 1) : null,
          start,
          uri: listUri(page),
        };
      });

      app.get<{ Params: { AccountSid: string; file: string } }>(
        `/${API_VERSION}/Accounts/:AccountSid/Messages/:file`,
        async (request, reply) => {
          const account = authenticate(request, reply);
          if (!account) return reply;
          const sid = request.params.file.replace(/\.json$/, '');
          const message = messages.get(sid);
          if (
            !request.params.file.endsWith('.json') ||
            account.accountSid !== request.params.AccountSid ||
            message?.accountSid !== account.accountSid
          ) {
            return notFound(reply, request.url.replace(/^\/twilio/, ''));
          }
          return resource(message);
        },
      );
      return Promise.resolve();
    },

    control(app: FastifyInstance, context: SimulatorContext) {
      /** Registers an account (fresh SID and token unless given) with its phone numbers. */
      app.post<{
        Body: { accountSid?: string; authToken?: string; numbers?: string[] } | undefined;
      }>('/accounts', async (request, reply) => {
        const body = request.body ?? {};
        const account: Account = {
          accountSid: body.accountSid ?? `AC${randomBytes(16).toString('hex')}`,
          authToken: body.authToken ?? randomBytes(16).toString('hex'),
          numbers: new Set(body.numbers ?? []),
        };
        accounts.set(account.accountSid, account);
        return reply.code(201).send({ ...account, numbers: [...account.numbers] });
      });

      /** Adds a number the account owns (a valid `From`). */
      app.post<{ Params: { sid: string }; Body: { phoneNumber?: string } | undefined }>(
        '/accounts/:sid/numbers',
        async (request, reply) => {
          const account = accounts.get(request.params.sid);
          if (!account) return reply.code(404).send({ error: 'unknown account' });
          const phoneNumber = request.body?.phoneNumber;
          if (!phoneNumber || !E164.test(phoneNumber)) {
            return reply.code(400).send({ error: 'phoneNumber must be E.164' });
          }
          account.numbers.add(phoneNumber);
          return reply
            .code(201)
            .send({ accountSid: account.accountSid, numbers: [...account.numbers] });
        },
      );

      /** Automatic progression: `{ stepDelayMs: number | null }` (null: only by `/status`). */
      app.put<{ Body: { stepDelayMs?: number | null } | undefined }>('/settings', (request) => {
        stepDelayMs = request.body?.stepDelayMs ?? null;
        return { stepDelayMs };
      });

      /**
       * Seeds message history without sending or posting anything: `{from, to, body?, direction?:
       * 'inbound' | 'outbound-api', dateSent?: ISO}`. An inbound message goes to one of an
       * account's numbers (status `received`); an outbound one comes from one (status `delivered`).
       */
      app.post<{
        Body:
          | {
              from?: string;
              to?: string;
              body?: string;
              direction?: 'inbound' | 'outbound-api';
              dateSent?: string;
            }
          | undefined;
      }>('/messages', async (request, reply) => {
        const input = request.body ?? {};
        const inbound = input.direction !== 'outbound-api';
        const ours = inbound ? input.to : input.from;
        const theirs = inbound ? input.from : input.to;
        const account = [...accounts.values()].find((a) => ours && a.numbers.has(ours));
        if (!account || !ours || !theirs || !E164.test(theirs)) {
          return reply.code(400).send({
            error: "one of 'from'/'to' must be an account's number, the other E.164",
          });
        }
        const dateSent = input.dateSent === undefined ? new Date() : new Date(input.dateSent);
        if (Number.isNaN(dateSent.getTime())) {
          return reply.code(400).send({ error: "'dateSent' must be an ISO date" });
        }
        const body = input.body ?? '';
        const numSegments = twilioSegments(body);
        const message: StoredMessage = {
          sid: `SM${randomBytes(16).toString('hex')}`,
          accountSid: account.accountSid,
          from: inbound ? theirs : ours,
          to: inbound ? ours : theirs,
          body,
          status: inbound ? 'received' : 'delivered',
          direction: inbound ? 'inbound' : 'outbound-api',
          numSegments,
          numMedia: 0,
          price: inbound ? null : (-TWILIO_SIM_PRICE_PER_SEGMENT * numSegments).toFixed(5),
          errorCode: null,
          errorMessage: null,
          dateCreated: dateSent,
          dateUpdated: dateSent,
          dateSent,
          statusCallback: undefined,
        };
        messages.set(message.sid, message);
        return reply.code(201).send(resource(message));
      });

      /** Forces a message's status (e.g. `undelivered` with `errorCode` 30003), posting its callback. */
      app.post<{
        Params: { sid: string };
        Body: { status?: TwilioStatus; errorCode?: number } | undefined;
      }>('/messages/:sid/status', async (request, reply) => {
        const message = messages.get(request.params.sid);
        if (!message) return reply.code(404).send({ error: 'unknown message' });
        const status = request.body?.status;
        if (!status || !['sent', 'delivered', 'undelivered', 'failed'].includes(status)) {
          return reply.code(400).send({ error: 'status: sent | delivered | undelivered | failed' });
        }
        const webhook = await setStatus(context, message, status, request.body?.errorCode);
        return { message: resource(message), webhook };
      });

      /**
       * An inbound SMS to one of an account's numbers, delivered as Twilio does: a form POST
       * signed with the account's auth token (twilio.com/docs/messaging/guides/webhook-request);
       * `format: 'json'` uses the `bodySHA256` variant instead.
       */
      app.post<{
        Body:
          | {
              from?: string;
              to?: string;
              body?: string;
              url?: string;
              mediaUrls?: string[];
              format?: 'form' | 'json';
            }
          | undefined;
      }>('/inbound', async (request, reply) => {
        const input = request.body ?? {};
        const account = [...accounts.values()].find((a) => input.to && a.numbers.has(input.to));
        if (!account || !input.to) {
          return reply.code(400).send({ error: "'to' must be a number registered to an account" });
        }
        if (!input.from || !E164.test(input.from)) {
          return reply.code(400).send({ error: "'from' must be E.164" });
        }
        const body = input.body ?? '';
        const media = input.mediaUrls ?? [];
        const sid = `SM${randomBytes(16).toString('hex')}`;
        const segments = twilioSegments(body);
        const params: Record<string, string> = {
          ToCountry: 'US',
          ToState: 'CA',
          SmsMessageSid: sid,
          NumMedia: String(media.length),
          ToCity: '',
          FromZip: '',
          SmsSid: sid,
          FromState: '',
          SmsStatus: 'received',
          FromCity: '',
          Body: body,
          FromCountry: 'US',
          To: input.to,
          ToZip: '',
          NumSegments: String(segments),
          MessageSid: sid,
          AccountSid: account.accountSid,
          From: input.from,
          ApiVersion: API_VERSION,
        };
        media.forEach((mediaUrl, index) => {
          params[`MediaUrl${String(index)}`] = mediaUrl;
          params[`MediaContentType${String(index)}`] = 'image/jpeg';
        });
        const now = new Date();
        messages.set(sid, {
          sid,
          accountSid: account.accountSid,
          from: input.from,
          to: input.to,
          body,
          status: 'received',
          direction: 'inbound',
          numSegments: segments,
          numMedia: media.length,
          price: null,
          errorCode: null,
          errorMessage: null,
          dateCreated: now,
          dateUpdated: now,
          dateSent: now,
          statusCallback: undefined,
        });
        const url = input.url ?? `${context.publicUrl}/webhooks/twilio`;
        let webhook: SentWebhook;
        if (input.format === 'json') {
          const raw = JSON.stringify(params);
          const signedUrl = twilioSignedJsonUrl(url, raw);
          webhook = await context.webhooks.send('twilio', signedUrl, raw, {
            'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
            'user-agent': 'TwilioProxy/1.1',
            'content-type': 'application/json',
            'x-twilio-signature': twilioSignature(account.authToken, signedUrl, {}),
          });
        } else {
          webhook = await postForm(context, account, url, params);
        }
        return reply.code(202).send({ messageSid: sid, params, webhook });
      });

      /**
       * An inbound call to one of an account's numbers ends: Twilio posts the number's call
       * status callback, form-encoded and signed (see `twilioInboundCallStatusParams`).
       * `status` no-answer (default), busy, failed or canceled: never answered, no duration;
       * completed: answered, lasting `durationSeconds` (default 30).
       *
       * `forward: {status?, durationSeconds?, url?}`: the number's TwiML forwarded the call with
       * `<Dial action="url">`. Twilio answered the call to run the TwiML, so it ends `completed`;
       * first the action request reports the forward (`status` no-answer by default, busy,
       * failed, canceled, or completed/answered lasting `durationSeconds`, default 30), signed,
       * to `forward.url` (default: `url`); then the status callback. The call lasts the forward
       * plus the ringing (20 s) unless `durationSeconds` says otherwise.
       */
      app.post<{
        Body:
          | {
              from?: string;
              to?: string;
              status?: TwilioCallEndStatus;
              durationSeconds?: number;
              url?: string;
              forward?: {
                status?: TwilioDialCallStatus;
                durationSeconds?: number;
                url?: string;
              };
            }
          | undefined;
      }>('/calls/inbound', async (request, reply) => {
        const input = request.body ?? {};
        const account = [...accounts.values()].find((a) => input.to && a.numbers.has(input.to));
        if (!account || !input.to) {
          return reply.code(400).send({ error: "'to' must be a number registered to an account" });
        }
        if (!input.from || !E164.test(input.from)) {
          return reply.code(400).send({ error: "'from' must be E.164" });
        }
        const forward = input.forward;
        const status = input.status ?? (forward ? 'completed' : 'no-answer');
        if (!TWILIO_CALL_END_STATUSES.includes(status)) {
          return reply
            .code(400)
            .send({ error: `'status' must be one of ${TWILIO_CALL_END_STATUSES.join(', ')}` });
        }
        if (forward && status !== 'completed') {
          return reply
            .code(400)
            .send({ error: "a forwarded call was answered by Twilio: 'status' must be completed" });
        }
        const dialStatus = forward?.status ?? 'no-answer';
        if (!TWILIO_DIAL_CALL_STATUSES.includes(dialStatus)) {
          return reply.code(400).send({
            error: `'forward.status' must be one of ${TWILIO_DIAL_CALL_STATUSES.join(', ')}`,
          });
        }
        const dialAnswered = dialStatus === 'completed' || dialStatus === 'answered';
        const dialDuration = forward?.durationSeconds ?? (dialAnswered ? 30 : 0);
        if (
          !Number.isInteger(dialDuration) ||
          dialDuration < 0 ||
          (!dialAnswered && dialDuration !== 0)
        ) {
          return reply.code(400).send({
            error: "'forward.durationSeconds' must be a whole number of seconds, 0 unless answered",
          });
        }
        const answered = status === 'completed';
        const duration = input.durationSeconds ?? (forward ? dialDuration + 20 : answered ? 30 : 0);
        // Only an answered call lasts (a duration on any other would be a call that cannot
        // happen), and a forwarded one at least as long as its forward.
        if (
          !Number.isInteger(duration) ||
          duration < 0 ||
          (!answered && duration !== 0) ||
          (forward && duration < dialDuration)
        ) {
          return reply.code(400).send({
            error:
              "'durationSeconds' must be a whole number of seconds, 0 unless completed, at least the forward's",
          });
        }
        const callSid = `CA${randomBytes(16).toString('hex')}`;
        const call = {
          callSid,
          accountSid: account.accountSid,
          apiVersion: API_VERSION,
          from: input.from,
          to: input.to,
        };
        const url = input.url ?? `${context.publicUrl}/webhooks/twilio`;
        let forwarded:
          { dialCallSid: string; params: Record<string, string>; webhook: SentWebhook } | undefined;
        if (forward) {
          const dialCallSid = `CA${randomBytes(16).toString('hex')}`;
          const params = twilioDialActionParams(call, {
            dialCallSid,
            status: dialStatus,
            durationSeconds: dialDuration,
          });
          const webhook = await postForm(context, account, forward.url ?? url, params);
          forwarded = { dialCallSid, params, webhook };
        }
        const params = twilioInboundCallStatusParams({
          ...call,
          status,
          durationSeconds: duration,
          timestamp: rfc2822(new Date()),
        });
        const webhook = await postForm(context, account, url, params);
        return reply.code(202).send({ callSid, params, webhook, forward: forwarded });
      });
      return Promise.resolve();
    },
  };
}

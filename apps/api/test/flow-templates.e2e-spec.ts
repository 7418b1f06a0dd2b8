import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateHarness } from './support/template-harness';
import { waitFor } from './support/waiting';

const SMS_NUMBER = '+15550001111';
const VOICE_NUMBER = '+15550002222';
const BUSINESS = 'Bright Smiles';
const OPT_OUT_TAG = 'sms-opt-out';
/** Usage is recorded per step execution (`<step id>#<seq>`, so a loop's turns stay apart). */
const stepOf = (usage: { stepId: string | null }) => usage.stepId?.replace(/#\d+$/, '');

/**
 * The three bundled templates, installed through the API for one client and run end to end:
 * every run starts from a webhook a simulator signs and sends, and the assertions read what the
 * providers were asked to do (the SMS sent, the note and tags in GoHighLevel, the Google event).
 */
describe('bundled flow templates, end to end on the simulators', () => {
  const h = new TemplateHarness(SMS_NUMBER, VOICE_NUMBER);
  let missedCall: string;
  let smsReply: string;
  let booking: string;

  beforeAll(async () => {
    await h.start();
    await h.prompt(
      'missed-call-text-back',
      'Write a one-line text from {{ businessName }} to {{ callerName | default: "a caller" }} ' +
        '({{ callerNumber }}) whose call ended {{ outcome }}: sorry we missed you, how can we help?',
      {
        businessName: { type: 'string' },
        callerName: { type: 'string' },
        callerNumber: { type: 'string' },
        outcome: { type: 'string' },
      },
    );
    await h.prompt(
      'inbound-sms-reply',
      'You answer texts for {{ businessName }}. Customer: {{ customerName | default: "unknown" }}.\n' +
        'Conversation so far:\n{{ conversation }}\nAnswer their last message: {{ message }}',
      {
        businessName: { type: 'string' },
        customerName: { type: 'string' },
        message: { type: 'string' },
        conversation: { type: 'string' },
      },
    );
    const templates = (await h.api.get('/v1/flow-templates')).json<{
      data: { id: string; parameters: Record<string, { required: boolean }> }[];
    }>().data;
    expect(templates.map((t) => t.id).sort()).toEqual([
      'appointment-booking',
      'inbound-sms-ai-reply',
      'missed-call-text-back',
    ]);
    missedCall = await h.install('missed-call-text-back', {
      fromNumber: SMS_NUMBER,
      businessName: BUSINESS,
    });
    smsReply = await h.install('inbound-sms-ai-reply', { businessName: BUSINESS });
    booking = await h.install('appointment-booking', {
      fromNumber: SMS_NUMBER,
      timeZone: 'America/New_York',
      businessName: BUSINESS,
      appointmentTitle: 'Cleaning',
    });
  });
  afterAll(() => h.close());

  describe('missed-call text-back', () => {
    it('texts back an inbound caller Retell could not connect, and notes it on the contact', async () => {
      const caller = '+15557650001';
      const text = 'Sorry we missed your call! How can Bright Smiles help?';
      await h.llmAnswers(`  ${text}\n`);
      const callId = await h.inboundCall(caller);
      await h.progress(callId, { outcome: 'no_answer' });
      const run = await h.finished(missedCall, 1);
      expect(run.status, run.error ?? '').toBe('completed');
      expect(TemplateHarness.path(run)).toEqual([
        'contact:completed',
        'opted_out:completed',
        'compose:completed',
        'text_back:completed',
        'note_texted:completed',
        'done:completed',
      ]);
      expect(h.sentSms(caller)).toEqual([
        expect.objectContaining({ From: SMS_NUMBER, To: caller, Body: text }),
      ]);
      const contact = await h.contact(caller);
      expect(contact.source).toBe('missed call');
      expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
        {
          contactId: contact.id,
          body: `Missed call (unanswered) from ${caller}. Texted back: ${text}`,
        },
      ]);
      // The client's prompt, rendered with the call's facts, is what the model was asked.
      const compose = run.steps.find((s) => s.stepId === 'compose')!;
      expect(compose.promptVersionId).toEqual(expect.any(String));
      const asked = h.journal('openrouter', 'POST', /chat\/completions$/).at(-1)!.body as {
        model: string;
        messages: { content: string }[];
      };
      expect(asked.model).toBe('openai/gpt-4o-mini');
      expect(asked.messages[0]!.content).toBe(
        `Write a one-line text from ${BUSINESS} to a caller (${caller}) whose call ended unanswered: sorry we missed you, how can we help?`,
      );
      const usage = await h.usage(run.id);
      expect(usage).toEqual([
        expect.objectContaining({
          stepId: expect.stringMatching(/^compose#\d+$/),
          kind: 'llm_tokens',
          provider: 'openrouter',
          clientId: h.clientId,
          flowId: missedCall,
          promptVersionId: compose.promptVersionId,
        }),
        expect.objectContaining({
          stepId: expect.stringMatching(/^text_back#\d+$/),
          kind: 'sms_segments',
          provider: 'twilio',
          quantity: 1,
          clientId: h.clientId,
          flowId: missedCall,
        }),
      ]);
      expect(usage[0]!.quantity).toBeGreaterThan(0);
      expect(usage[0]!.costMicros).toBeGreaterThan(0);
    });

    it('texts back a call that reached voicemail; skips answered and outbound calls', async () => {
      const caller = '+15557650002';
      await h.llmAnswers('We saw you called and left a message, we will call you back.');
      // An answered call ends `completed`: no text-back (nor a booking: no intent).
      const answered = await h.inboundCall(caller);
      await h.progress(answered, { outcome: 'answered' });
      // Our agent calling out and not getting through is not a missed call.
      const outbound = await h.outboundCall(caller);
      await h.progress(outbound, { outcome: 'no_answer' });
      const boxed = await h.inboundCall(caller);
      await h.progress(boxed, { outcome: 'voicemail' });
      const run = await h.finished(missedCall, 2);
      expect(run.status).toBe('completed');
      expect(h.sentSms(caller)).toEqual([
        expect.objectContaining({
          Body: 'We saw you called and left a message, we will call you back.',
        }),
      ]);
      const contact = await h.contact(caller);
      expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
        expect.objectContaining({ body: expect.stringMatching(/^Missed call \(voicemail\)/) }),
      ]);
    });

    it('does not text a caller who opted out of SMS, only notes the call', async () => {
      const caller = '+15557650003';
      await h.control('ghl/contacts', { phone: caller, firstName: 'Olga', tags: [OPT_OUT_TAG] });
      const llmCalls = h.journal('openrouter', 'POST', /chat\/completions$/).length;
      const callId = await h.inboundCall(caller);
      await h.progress(callId, { outcome: 'no_answer', disconnectionReason: 'dial_busy' });
      const run = await h.finished(missedCall, 3);
      expect(TemplateHarness.path(run)).toEqual([
        'contact:completed',
        'opted_out:completed',
        'note_not_texted:completed',
        'done:completed',
      ]);
      expect(h.sentSms(caller)).toEqual([]);
      expect(h.journal('openrouter', 'POST', /chat\/completions$/)).toHaveLength(llmCalls);
      const contact = await h.contact(caller);
      expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
        {
          contactId: contact.id,
          body: `Missed call (busy) from ${caller}. Not texted: the contact opted out of SMS.`,
        },
      ]);
      expect(await h.usage(run.id)).toEqual([]);
    });
  });

  describe('inbound SMS AI reply', () => {
    const customer = '+15557651001';

    it('answers with the client prompt over the recent conversation, recording usage', async () => {
      await h.control('ghl/contacts', { phone: customer, firstName: 'Ana' });
      await h.control('twilio/messages', {
        from: SMS_NUMBER,
        to: customer,
        body: 'Your cleaning is due.',
        direction: 'outbound-api',
        dateSent: new Date(Date.now() - 60_000).toISOString(),
      });
      await h.llmAnswers(' We have openings Tuesday at 10 and 2. Which suits you? ');
      await h.inboundSms(customer, 'Can I come in next week?');
      const run = await h.finished(smsReply, 1);
      expect(run.status, run.error ?? '').toBe('completed');
      expect(TemplateHarness.path(run)).toEqual([
        'keyword:completed',
        'contact:completed',
        'route:completed',
        'history:completed',
        'compose:completed',
        'reply:completed',
        'done:completed',
      ]);
      expect(h.sentSms(customer)).toEqual([
        expect.objectContaining({
          From: SMS_NUMBER,
          To: customer,
          Body: 'We have openings Tuesday at 10 and 2. Which suits you?',
        }),
      ]);
      const asked = h.journal('openrouter', 'POST', /chat\/completions$/).at(-1)!.body as {
        messages: { content: string }[];
      };
      expect(asked.messages[0]!.content).toBe(
        `You answer texts for ${BUSINESS}. Customer: Ana.\nConversation so far:\n` +
          'Us: Your cleaning is due.\nCustomer: Can I come in next week?\n' +
          'Answer their last message: Can I come in next week?',
      );
      const usage = await h.usage(run.id);
      expect(usage.map((u) => [stepOf(u), u.kind, u.provider])).toEqual([
        ['compose', 'llm_tokens', 'openrouter'],
        ['reply', 'sms_segments', 'twilio'],
      ]);
    });

    it('answers HELP with the help text, without the model', async () => {
      const llmCalls = h.journal('openrouter', 'POST', /chat\/completions$/).length;
      await h.inboundSms(customer, ' help ');
      const run = await h.finished(smsReply, 2);
      expect(TemplateHarness.path(run)).toEqual([
        'keyword:completed',
        'contact:completed',
        'route:completed',
        'help:completed',
        'done:completed',
      ]);
      expect(h.sentSms(customer).at(-1)).toMatchObject({
        Body: `${BUSINESS}: Reply STOP to unsubscribe. Msg & data rates may apply.`,
      });
      expect(h.journal('openrouter', 'POST', /chat\/completions$/)).toHaveLength(llmCalls);
    });

    it('honours STOP: the contact is tagged, nothing more is sent until START', async () => {
      const sentBefore = h.sentSms(customer).length;
      await h.inboundSms(customer, 'STOP');
      const stopped = await h.finished(smsReply, 3);
      expect(TemplateHarness.path(stopped)).toEqual([
        'keyword:completed',
        'contact:completed',
        'route:completed',
        'opt_out:completed',
        'done:completed',
      ]);
      expect((await h.contact(customer)).tags).toContain(OPT_OUT_TAG);
      // The carrier confirms STOP itself: we send nothing.
      expect(h.sentSms(customer)).toHaveLength(sentBefore);

      await h.inboundSms(customer, 'Are you still there?');
      const ignored = await h.finished(smsReply, 4);
      expect(TemplateHarness.path(ignored)).toEqual([
        'keyword:completed',
        'contact:completed',
        'route:completed',
        'opted_out:completed',
      ]);
      await h.inboundSms(customer, 'help');
      await h.finished(smsReply, 5);
      expect(h.sentSms(customer)).toHaveLength(sentBefore);
      // …nor does a missed call from them get a text.
      const callId = await h.inboundCall(customer);
      await h.progress(callId, { outcome: 'no_answer' });
      const missed = await h.finished(missedCall, 4);
      expect(missed.steps.map((s) => s.stepId)).toContain('note_not_texted');
      expect(h.sentSms(customer)).toHaveLength(sentBefore);

      await h.inboundSms(customer, 'Start');
      const restarted = await h.finished(smsReply, 6);
      expect(TemplateHarness.path(restarted)).toEqual([
        'keyword:completed',
        'contact:completed',
        'route:completed',
        'opt_in:completed',
        'opt_in_reply:completed',
        'done:completed',
      ]);
      expect((await h.contact(customer)).tags).not.toContain(OPT_OUT_TAG);
      expect(h.sentSms(customer).slice(sentBefore)).toEqual([
        expect.objectContaining({
          Body: 'You are subscribed again. Reply STOP to unsubscribe.',
        }),
      ]);
    });

    it('treats UNSUBSCRIBE like STOP', async () => {
      const other = '+15557651002';
      await h.inboundSms(other, 'unsubscribe');
      const run = await h.finished(smsReply, 7);
      expect(run.steps.map((s) => s.stepId)).toContain('opt_out');
      expect((await h.contact(other)).tags).toEqual([OPT_OUT_TAG]);
      expect(h.sentSms(other)).toEqual([]);
    });
  });

  describe('appointment booking', () => {
    const googleEvents = () =>
      h
        .journal('google', 'POST', /^\/calendar\/v3\/calendars\/[^/]+\/events$/)
        .map((e) => e.body as Record<string, unknown>);

    it('books the requested time when the calendar is free, texts and notes the caller', async () => {
      const caller = '+15557652001';
      await h.control('ghl/contacts', { phone: caller, name: 'Ana Lopez', firstName: 'Ana' });
      const callId = await h.inboundCall(caller);
      // Monday 7 January 2030, 10:00 in New York.
      await h.progress(callId, {
        outcome: 'answered',
        analysis: {
          call_summary: 'Ana wants a cleaning on Monday at 10.',
          custom_analysis_data: {
            intent: 'book_appointment',
            requested_time: '2030-01-07T15:00:00Z',
          },
        },
      });
      const run = await h.finished(booking, 1);
      expect(run.status, run.error ?? '').toBe('completed');
      expect(TemplateHarness.path(run)).toEqual([
        'request:completed',
        'contact:completed',
        'availability:completed',
        'slot:completed',
        'decide:completed',
        'book:completed',
        'confirm:completed',
        'tag_booked:completed',
        'note_booked:completed',
        'done:completed',
      ]);
      // Neither a missed call nor anything else ran for this answered call.
      expect(await h.runs(missedCall)).toHaveLength(4);
      expect(h.journal('google', 'POST', /^\/calendar\/v3\/freeBusy$/).at(-1)!.body).toMatchObject({
        items: [{ id: 'primary' }],
        timeZone: 'America/New_York',
      });
      const [event] = googleEvents();
      expect(event).toMatchObject({
        summary: 'Cleaning: Ana Lopez',
        description: 'Ana wants a cleaning on Monday at 10.',
        start: {
          dateTime: expect.stringMatching(/^2030-01-07T(15:00:00(\.000)?Z|10:00:00-05:00)/),
        },
        end: { dateTime: expect.stringMatching(/^2030-01-07T(15:30:00(\.000)?Z|10:30:00-05:00)/) },
      });
      const book = run.steps.find((s) => s.stepId === 'book')!;
      expect(book.output).toMatchObject({ id: event!.id, title: 'Cleaning: Ana Lopez' });
      expect(h.sentSms(caller)).toEqual([
        expect.objectContaining({
          From: SMS_NUMBER,
          Body: `${BUSINESS}: you're booked for Mon, Jan 7, 10:00 AM. Reply STOP to opt out of texts.`,
        }),
      ]);
      const contact = await h.contact(caller);
      expect(contact.tags).toContain('appointment-booked');
      expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
        {
          contactId: contact.id,
          body: `Appointment booked by the voice agent for Mon, Jan 7, 10:00 AM (event ${String(event!.id)}).`,
        },
      ]);
      expect((await h.usage(run.id)).map((u) => [stepOf(u), u.kind])).toEqual([
        ['confirm', 'sms_segments'],
      ]);
    });

    it('proposes the next free slot by SMS when the requested time is taken (an outbound call)', async () => {
      const customer = '+15557652002';
      // Tuesday 8 January 2030, 10:00–11:00 in New York is taken.
      await h.control('google/busy', {
        calendarId: 'primary',
        start: '2030-01-08T15:00:00Z',
        end: '2030-01-08T16:00:00Z',
      });
      const eventsBefore = googleEvents().length;
      // The agent called the customer back: the customer is the callee.
      const callId = await h.outboundCall(customer);
      await h.progress(callId, {
        outcome: 'answered',
        analysis: {
          custom_analysis_data: {
            intent: 'book_appointment',
            requested_time: '2030-01-08T10:15:00-05:00',
          },
        },
      });
      const run = await h.finished(booking, 2);
      expect(run.status, run.error ?? '').toBe('completed');
      expect(TemplateHarness.path(run)).toEqual([
        'request:completed',
        'contact:completed',
        'availability:completed',
        'slot:completed',
        'decide:completed',
        'propose:completed',
        'tag_proposed:completed',
        'note_proposed:completed',
        'done:completed',
      ]);
      expect(run.steps.find((s) => s.stepId === 'slot')!.output).toEqual({
        found: true,
        available: false,
        start: '2030-01-08T16:00:00.000Z',
        end: '2030-01-08T16:30:00.000Z',
        label: 'Tue, Jan 8, 11:00 AM',
      });
      expect(googleEvents()).toHaveLength(eventsBefore);
      expect(h.sentSms(VOICE_NUMBER)).toEqual([]);
      expect(h.sentSms(customer)).toEqual([
        expect.objectContaining({
          From: SMS_NUMBER,
          Body:
            `${BUSINESS}: the time you asked for is taken. The next free time is ` +
            'Tue, Jan 8, 11:00 AM. Reply or call us to confirm. Reply STOP to opt out of texts.',
        }),
      ]);
      const contact = await h.contact(customer);
      expect(contact).toMatchObject({ source: 'voice booking' });
      expect(contact.tags).toContain('appointment-proposed');
      expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
        {
          contactId: contact.id,
          body: 'Requested 2030-01-08T15:15:00.000Z was not free; proposed Tue, Jan 8, 11:00 AM by SMS.',
        },
      ]);
    });

    it('ignores an analysis without a booking intent', async () => {
      const callId = await h.inboundCall('+15557652003');
      await h.progress(callId, {
        outcome: 'answered',
        analysis: { custom_analysis_data: { intent: 'question' } },
      });
      // The analysis arrived as an event; no booking run started from it.
      await waitFor(
        async () =>
          (await h.api.get(`${h.base}/events?type=maxai.voice.call.analyzed`))
            .json<{ data: { subject: string }[] }>()
            .data.some((e) => e.subject === callId),
        10_000,
        20,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await h.runs(booking)).toHaveLength(2);
    });
  });
});

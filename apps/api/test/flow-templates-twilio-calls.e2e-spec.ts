import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateHarness } from './support/template-harness';

const SMS_NUMBER = '+15550001111';
const VOICE_NUMBER = '+15550002222';
const BUSINESS = 'Bright Smiles';
const CALL_ENDED = 'maxai.voice.call.ended';

/**
 * The missed-call text-back template on its Twilio path: the client's Twilio number rejects or
 * misses a call, Twilio's signed call status callback reaches the client's Twilio webhook
 * endpoint (the one that takes its SMS), and the assertions read what the providers were asked
 * to do: the SMS to the caller, the note in GoHighLevel.
 */
describe('missed-call text-back from Twilio call status callbacks, end to end', () => {
  const h = new TemplateHarness(SMS_NUMBER, VOICE_NUMBER);
  let missedCall: string;

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
    missedCall = await h.install('missed-call-text-back', {
      fromNumber: SMS_NUMBER,
      businessName: BUSINESS,
    });
  });
  afterAll(() => h.close());

  it('texts back a caller whose call nobody answered, notes it, and ignores a retried callback', async () => {
    const caller = '+15557660001';
    const text = 'Sorry we missed your call! How can Bright Smiles help?';
    await h.llmAnswers(` ${text} `);
    const { callSid, webhook } = await h.twilioCallEnded(caller, 'no-answer');
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
    // What the trigger's filter saw: Twilio's inbound call, normalized.
    expect(await h.dispatched(CALL_ENDED, callSid)).toMatchObject({
      provider: 'twilio',
      callId: callSid,
      direction: 'inbound',
      from: caller,
      to: SMS_NUMBER,
      outcome: 'unanswered',
      durationSeconds: 0,
    });
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
    const asked = h.journal('openrouter', 'POST', /chat\/completions$/).at(-1)!.body as {
      messages: { content: string }[];
    };
    expect(asked.messages[0]!.content).toBe(
      `Write a one-line text from ${BUSINESS} to a caller (${caller}) whose call ended unanswered: sorry we missed you, how can we help?`,
    );

    // Twilio retries a callback it got no answer to: the same signed bytes, acknowledged as a
    // duplicate before any event is stored, so no second run, text or note.
    const retried = await fetch(webhook.url, {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
    });
    expect(retried.status).toBe(200);
    const events = (await h.api.get(`${h.base}/events?type=${CALL_ENDED}`)).json<{
      data: { subject: string }[];
    }>().data;
    expect(events.filter((e) => e.subject === callSid)).toHaveLength(1);
    expect(await h.runs(missedCall)).toHaveLength(1);
    expect(h.sentSms(caller)).toHaveLength(1);
    expect(h.notes().filter((n) => n.contactId === contact.id)).toHaveLength(1);
  });

  it('texts back a caller who got a busy signal', async () => {
    const caller = '+15557660002';
    const text = 'Sorry, our line was busy. How can Bright Smiles help?';
    await h.llmAnswers(text);
    const { callSid } = await h.twilioCallEnded(caller, 'busy');
    const run = await h.finished(missedCall, 2);
    expect(run.status, run.error ?? '').toBe('completed');
    expect(run.steps.map((s) => s.stepId)).toContain('text_back');
    expect(await h.dispatched(CALL_ENDED, callSid)).toMatchObject({
      direction: 'inbound',
      outcome: 'busy',
    });
    expect(h.sentSms(caller)).toEqual([
      expect.objectContaining({ From: SMS_NUMBER, To: caller, Body: text }),
    ]);
    const contact = await h.contact(caller);
    expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
      { contactId: contact.id, body: `Missed call (busy) from ${caller}. Texted back: ${text}` },
    ]);
  });

  it('does nothing for an answered call', async () => {
    const caller = '+15557660003';
    const llmCalls = h.journal('openrouter', 'POST', /chat\/completions$/).length;
    const notes = h.notes().length;
    const { callSid } = await h.twilioCallEnded(caller, 'completed');
    // Once the event has been through the orchestrator, any run it started would exist.
    expect(await h.dispatched(CALL_ENDED, callSid)).toMatchObject({
      direction: 'inbound',
      from: caller,
      outcome: 'completed',
      durationSeconds: 30,
    });
    expect(await h.runs(missedCall)).toHaveLength(2);
    expect(h.sentSms(caller)).toEqual([]);
    expect(h.journal('openrouter', 'POST', /chat\/completions$/)).toHaveLength(llmCalls);
    expect(h.notes()).toHaveLength(notes);
  });

  it('texts back a caller whose forwarded call nobody answered (Twilio <Dial> action)', async () => {
    const caller = '+15557660004';
    const text = 'Sorry we could not pick up! How can Bright Smiles help?';
    await h.llmAnswers(text);
    const { callSid, dialCallSid } = await h.twilioCallForwarded(caller, 'no-answer');
    const run = await h.finished(missedCall, 3);
    expect(run.status, run.error ?? '').toBe('completed');
    expect(TemplateHarness.path(run)).toContain('text_back:completed');
    // Twilio answered the call to forward it: the call's own status callback says completed;
    // the action request says the forward went unanswered. Two events, one run.
    expect(await h.dispatchedAll(CALL_ENDED, callSid, 2)).toEqual([
      expect.objectContaining({
        callId: callSid,
        direction: 'inbound',
        from: caller,
        to: SMS_NUMBER,
        outcome: 'unanswered',
        forwardedCallId: dialCallSid,
      }),
      expect.objectContaining({ callId: callSid, outcome: 'completed', durationSeconds: 20 }),
    ]);
    expect(await h.runs(missedCall)).toHaveLength(3);
    expect(h.sentSms(caller)).toEqual([
      expect.objectContaining({ From: SMS_NUMBER, To: caller, Body: text }),
    ]);
    const contact = await h.contact(caller);
    expect(h.notes().filter((n) => n.contactId === contact.id)).toEqual([
      {
        contactId: contact.id,
        body: `Missed call (unanswered) from ${caller}. Texted back: ${text}`,
      },
    ]);
  });

  it('does nothing for a forwarded call someone answered', async () => {
    const caller = '+15557660005';
    const llmCalls = h.journal('openrouter', 'POST', /chat\/completions$/).length;
    const notes = h.notes().length;
    const { callSid } = await h.twilioCallForwarded(caller, 'completed');
    // Once both events have been through the orchestrator, any run they started would exist.
    expect(await h.dispatchedAll(CALL_ENDED, callSid, 2)).toEqual([
      expect.objectContaining({ outcome: 'completed', durationSeconds: 30 }),
      expect.objectContaining({ outcome: 'completed', durationSeconds: 50 }),
    ]);
    expect(await h.runs(missedCall)).toHaveLength(3);
    expect(h.sentSms(caller)).toEqual([]);
    expect(h.journal('openrouter', 'POST', /chat\/completions$/)).toHaveLength(llmCalls);
    expect(h.notes()).toHaveLength(notes);
  });
});

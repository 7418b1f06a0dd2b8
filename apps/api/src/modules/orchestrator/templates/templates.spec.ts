import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { dryRun, type DryRunResult } from '../definition/dry-run';
import type { FlowDefinition } from '../definition/flow-types';
import type { FlowEvent } from '../definition/trigger';
import { validateFlow } from '../definition/validate-flow';
import { TEMPLATE_SOURCES } from './template-sources.generated';
import {
  flowTemplate,
  flowTemplates,
  instantiateTemplate,
  parametersSchema,
  parseTemplate,
  type FlowTemplate,
} from './templates';

const GENERATED = path.join(__dirname, 'template-sources.generated.ts');

/** The generated module as it must read for the .yaml files beside it. */
async function renderSources(): Promise<string> {
  const entries = readdirSync(__dirname)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const source = readFileSync(path.join(__dirname, file), 'utf8');
      return `  ${JSON.stringify(file.slice(0, -'.yaml'.length))}: ${JSON.stringify(source)},`;
    });
  const text = [
    '// Generated from the .yaml files beside it; do not edit. After changing one, run',
    '// UPDATE_TEMPLATES=1 npx vitest run apps/api/src/modules/orchestrator/templates/templates.spec.ts',
    'export const TEMPLATE_SOURCES = {',
    ...entries,
    '} as const;',
    '',
    'export type TemplateId = keyof typeof TEMPLATE_SOURCES;',
    '',
  ].join('\n');
  const options = await prettier.resolveConfig(GENERATED);
  return prettier.format(text, { ...options, filepath: GENERATED });
}

const template = (id: string): FlowTemplate => {
  const found = flowTemplate(id);
  if (found === undefined) throw new Error(`no template ${id}`);
  return found;
};

function installed(id: string, parameters: Record<string, unknown>): FlowDefinition {
  const result = instantiateTemplate(template(id), parameters);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.definition;
}

function cloudEvent(type: string, data: Record<string, unknown>): FlowEvent {
  return {
    id: 'evt-1',
    type,
    source: 'urn:maxai:test',
    subject: 'subject-1',
    time: '2026-11-30T12:00:00Z',
    tenantid: 'tenant-1',
    clientid: 'client-1',
    data,
  };
}

const CLIENT = '+15550100000';
const CALLER = '+15550100001';

const contactStub = (tags: string[] = []) => ({
  contact: {
    contact: { id: 'contact-7', firstName: 'Bo', name: 'Bo Lee', phone: CALLER, tags },
    created: false,
  },
});

const path_ = (result: DryRunResult) => result.steps.map((s) => `${s.id}:${s.status}`);
const texts = (result: DryRunResult) =>
  result.steps
    .filter((s) => s.type === 'messaging.send_sms' && s.status === 'would_run')
    .map((s) => s.resolvedInputs);

describe('bundled templates', () => {
  it('embed the .yaml files beside them exactly', async () => {
    const expected = await renderSources();
    if (process.env.UPDATE_TEMPLATES === '1') writeFileSync(GENERATED, expected);
    expect(readFileSync(GENERATED, 'utf8')).toBe(expected);
    for (const [id, source] of Object.entries(TEMPLATE_SOURCES)) {
      expect(source).toBe(readFileSync(path.join(__dirname, `${id}.yaml`), 'utf8'));
    }
  });

  it('are three valid flows', () => {
    expect(flowTemplates().map((t) => t.id)).toEqual([
      'appointment-booking',
      'inbound-sms-ai-reply',
      'missed-call-text-back',
    ]);
    for (const t of flowTemplates()) {
      const result = validateFlow(t.definition);
      expect(result.ok, t.id).toBe(true);
      expect(t.title.length).toBeGreaterThan(5);
      expect(t.description.length).toBeGreaterThan(50);
    }
    expect(flowTemplates()[0]).toBe(flowTemplates()[0]);
    expect(flowTemplate('nope')).toBeUndefined();
  });

  it('describe the ports, prompts, events and parameters they need', () => {
    expect(template('missed-call-text-back')).toMatchObject({
      ports: ['crm', 'llm', 'messaging'],
      events: ['maxai.voice.call.ended'],
      prompts: [
        {
          stepId: 'compose',
          key: 'missed-call-text-back',
          label: 'production',
          variables: ['businessName', 'callerName', 'callerNumber', 'outcome'],
        },
      ],
      parameters: [
        { name: 'fromNumber', required: true },
        { name: 'businessName', required: false, default: '' },
      ],
    });
    expect(template('inbound-sms-ai-reply')).toMatchObject({
      ports: ['crm', 'llm', 'messaging'],
      events: ['maxai.messaging.sms.received'],
      prompts: [
        {
          key: 'inbound-sms-reply',
          variables: ['businessName', 'customerName', 'message', 'conversation'],
        },
      ],
    });
    expect(template('inbound-sms-ai-reply').parameters.every((p) => !p.required)).toBe(true);
    expect(template('appointment-booking')).toMatchObject({
      ports: ['calendar', 'crm', 'messaging'],
      events: ['maxai.voice.call.analyzed'],
      prompts: [],
    });
    expect(
      template('appointment-booking')
        .parameters.filter((p) => p.required)
        .map((p) => p.name),
    ).toEqual(['fromNumber', 'timeZone']);
  });

  it('activate once their ports are bound', () => {
    const boundPorts = ['crm', 'calendar', 'messaging', 'llm'] as const;
    const activate = (id: string) =>
      validateFlow(template(id).definition, { phase: 'activate', boundPorts });
    expect(activate('missed-call-text-back').ok).toBe(true);
    expect(activate('appointment-booking').ok).toBe(true);
    expect(activate('inbound-sms-ai-reply')).toMatchObject({ ok: true });
  });
});

describe('installing a template', () => {
  it('turns parameters into initial vars', () => {
    const definition = installed('missed-call-text-back', {
      fromNumber: CLIENT,
      businessName: 'Acme Dental',
    });
    expect(definition.vars).toEqual({
      fromNumber: CLIENT,
      businessName: 'Acme Dental',
      optOutTag: 'sms-opt-out',
    });
  });

  it.each([
    ['missed-call-text-back', {}, [{ pointer: '/vars/fromNumber', message: 'is required' }]],
    [
      'missed-call-text-back',
      { fromNumber: '555-0100' },
      [{ pointer: '/vars/fromNumber', message: expect.stringContaining('must match pattern') }],
    ],
    [
      'missed-call-text-back',
      { fromNumber: CLIENT, optOutTag: 'x' },
      [{ pointer: '/vars/optOutTag', message: 'is not allowed here' }],
    ],
    [
      'appointment-booking',
      { fromNumber: CLIENT, timeZone: 'Mars/Base' },
      [{ pointer: '/vars/timeZone', message: 'must match format "time-zone"' }],
    ],
    [
      'appointment-booking',
      { fromNumber: CLIENT, timeZone: 'UTC', workingHours: { start: '9', end: '17:00' } },
      [
        {
          pointer: '/vars/workingHours/start',
          message: expect.stringContaining('must match pattern'),
        },
      ],
    ],
  ])('refuses bad parameters for %s: %j', (id, parameters, errors) => {
    expect(instantiateTemplate(template(id), parameters)).toEqual({ ok: false, errors });
  });

  it('publishes the parameters as a JSON Schema', () => {
    expect(parametersSchema(template('missed-call-text-back'))).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['fromNumber'],
      properties: { fromNumber: { pattern: expect.any(String) }, businessName: { type: 'string' } },
    });
  });

  it('re-validates the result', () => {
    const broken = { ...template('missed-call-text-back') };
    broken.definition = { ...broken.definition, steps: [] };
    expect(instantiateTemplate(broken, { fromNumber: CLIENT })).toMatchObject({
      ok: false,
      errors: [{ pointer: '/steps' }],
    });
  });

  it('refuses sources that are not valid templates', () => {
    expect(() => parseTemplate('missed-call-text-back', 'a: [')).toThrow('is not YAML');
    expect(() => parseTemplate('missed-call-text-back', 'schemaVersion: 2')).toThrow('is invalid');
    const minimal =
      'schemaVersion: 1\nname: Minimal\ntrigger: { events: [a.b] }\nsteps: [{ id: a, type: end }]\n';
    expect(() => parseTemplate('missed-call-text-back', minimal)).toThrow('description is missing');
    const described = `${minimal}description: A template without vars.\n`;
    expect(
      parseTemplate('missed-call-text-back', described).parameters.map((p) => p.required),
    ).toEqual([true, true]);
  });
});

describe('missed-call text-back (dry run)', () => {
  const definition = installed('missed-call-text-back', {
    fromNumber: CLIENT,
    businessName: 'Acme Dental',
  });
  const callEnded = (data: Record<string, unknown>) =>
    cloudEvent('maxai.voice.call.ended', {
      provider: 'retell',
      callId: 'call-1',
      direction: 'inbound',
      from: CALLER,
      to: CLIENT,
      outcome: 'voicemail',
      ...data,
    });

  it.each([
    ['a Retell voicemail', {}],
    ['a Retell unanswered call', { outcome: 'unanswered' }],
    ['a Twilio missed call', { provider: 'twilio', outcome: 'unanswered', callId: 'CA1' }],
    ['a busy line', { outcome: 'busy' }],
  ])('texts the caller back after %s and notes it', async (_, data) => {
    const result = await dryRun(definition, callEnded(data), { stubs: contactStub() });
    expect(path_(result)).toEqual([
      'contact:would_run',
      'opted_out:branch',
      'compose:would_run',
      'text_back:would_run',
      'note_texted:would_run',
      'done:would_run',
    ]);
    expect(result.steps[2]?.resolvedInputs).toEqual({
      prompt: { key: 'missed-call-text-back', label: 'production' },
      variables: {
        businessName: 'Acme Dental',
        callerName: 'Bo',
        callerNumber: CALLER,
        outcome: (data as { outcome?: string }).outcome ?? 'voicemail',
      },
      model: { maxTokens: 120 },
    });
    expect(texts(result)).toEqual([{ from: CLIENT, to: CALLER, body: 'Sample generated text.' }]);
    expect(result.steps[4]?.resolvedInputs).toMatchObject({
      contactId: 'contact-7',
      body: expect.stringContaining('Texted back: Sample generated text.'),
    });
  });

  it.each([
    ['an answered call', { outcome: 'completed' }],
    ['a failed call', { outcome: 'failed' }],
    ['an outbound call nobody answered', { direction: 'outbound', outcome: 'unanswered' }],
  ])('ignores %s', async (_, data) => {
    await expect(dryRun(definition, callEnded(data))).resolves.toMatchObject({
      matched: false,
      steps: [],
    });
  });

  it('does not text a caller who opted out, but still notes the call', async () => {
    const result = await dryRun(definition, callEnded({}), { stubs: contactStub(['sms-opt-out']) });
    expect(path_(result)).toEqual([
      'contact:would_run',
      'opted_out:branch',
      'note_not_texted:would_run',
      'done:would_run',
    ]);
    expect(texts(result)).toEqual([]);
  });
});

describe('inbound SMS AI reply (dry run)', () => {
  const definition = installed('inbound-sms-ai-reply', { businessName: 'Acme Dental' });
  const sms = (body: string) =>
    cloudEvent('maxai.messaging.sms.received', {
      provider: 'twilio',
      messageId: 'SM1',
      from: CALLER,
      to: CLIENT,
      body,
      segments: 1,
      media: [],
    });
  const history = [
    {
      id: 'SM1',
      status: 'received',
      from: CALLER,
      to: CLIENT,
      body: 'Do you open Saturday?',
      segments: 1,
    },
    {
      id: 'SM0',
      status: 'delivered',
      from: CLIENT,
      to: CALLER,
      body: 'Thanks for calling!',
      segments: 1,
    },
  ];

  it('answers an ordinary text with an AI reply that sees the conversation', async () => {
    const result = await dryRun(definition, sms('Do you open Saturday?'), {
      stubs: { ...contactStub(), history, compose: { text: ' Yes, 9 to 1! ' } },
    });
    expect(path_(result)).toEqual([
      'keyword:would_run',
      'contact:would_run',
      'route:branch',
      'history:would_run',
      'compose:would_run',
      'reply:would_run',
      'done:would_run',
    ]);
    expect(result.steps[3]?.resolvedInputs).toEqual({ with: CALLER, ours: CLIENT, limit: 10 });
    expect(result.steps[4]?.resolvedInputs).toMatchObject({
      variables: {
        businessName: 'Acme Dental',
        customerName: 'Bo',
        message: 'Do you open Saturday?',
        conversation: 'Us: Thanks for calling!\nCustomer: Do you open Saturday?',
      },
    });
    expect(texts(result)).toEqual([{ from: CLIENT, to: CALLER, body: 'Yes, 9 to 1!' }]);
  });

  it.each(['STOP', ' stop ', 'Unsubscribe', 'STOPALL', 'cancel', 'End', 'QUIT\n'])(
    'opts the sender out on %j: tags the contact and sends nothing',
    async (body) => {
      const result = await dryRun(definition, sms(body), { stubs: contactStub() });
      expect(path_(result)).toEqual([
        'keyword:would_run',
        'contact:would_run',
        'route:branch',
        'opt_out:would_run',
        'done:would_run',
      ]);
      expect(result.steps[3]?.resolvedInputs).toEqual({
        contactId: 'contact-7',
        tags: ['sms-opt-out'],
      });
      expect(texts(result)).toEqual([]);
    },
  );

  it('sends nothing more to an opted-out sender', async () => {
    for (const body of ['hello?', 'HELP']) {
      const result = await dryRun(definition, sms(body), { stubs: contactStub(['sms-opt-out']) });
      expect(path_(result)).toEqual([
        'keyword:would_run',
        'contact:would_run',
        'route:branch',
        'opted_out:would_run',
      ]);
      expect(texts(result)).toEqual([]);
    }
  });

  it.each(['HELP', 'help', 'Info'])('answers %j with the help text', async (body) => {
    const result = await dryRun(definition, sms(body), { stubs: contactStub() });
    expect(path_(result)).toEqual([
      'keyword:would_run',
      'contact:would_run',
      'route:branch',
      'help:would_run',
      'done:would_run',
    ]);
    expect(texts(result)).toEqual([
      {
        from: CLIENT,
        to: CALLER,
        body: 'Acme Dental: Reply STOP to unsubscribe. Msg & data rates may apply.',
      },
    ]);
  });

  it('opts an opted-out sender back in on START, and confirms', async () => {
    const result = await dryRun(definition, sms('start'), { stubs: contactStub(['sms-opt-out']) });
    expect(path_(result)).toEqual([
      'keyword:would_run',
      'contact:would_run',
      'route:branch',
      'opt_in:would_run',
      'opt_in_reply:would_run',
      'done:would_run',
    ]);
    expect(result.steps[3]?.resolvedInputs).toEqual({
      contactId: 'contact-7',
      tags: ['sms-opt-out'],
    });
    expect(texts(result)).toEqual([
      { from: CLIENT, to: CALLER, body: 'You are subscribed again. Reply STOP to unsubscribe.' },
    ]);
  });

  it('treats START from a subscribed sender as an ordinary text', async () => {
    const result = await dryRun(definition, sms('UNSTOP'), { stubs: contactStub() });
    expect(result.steps.map((s) => s.id)).toContain('reply');
  });

  it('leaves the business name out of the help text when there is none', async () => {
    const plain = installed('inbound-sms-ai-reply', {});
    const result = await dryRun(plain, sms('HELP'), { stubs: contactStub() });
    expect(texts(result)[0]?.body).toBe('Reply STOP to unsubscribe. Msg & data rates may apply.');
  });
});

describe('appointment booking (dry run)', () => {
  const definition = installed('appointment-booking', {
    fromNumber: CLIENT,
    timeZone: 'America/New_York',
    businessName: 'Acme Dental',
  });
  // Tuesday 1 December 2026, 10:00 in New York.
  const REQUESTED = '2026-12-01T10:00:00-05:00';
  const analyzed = (custom: Record<string, unknown>, data: Record<string, unknown> = {}) =>
    cloudEvent('maxai.voice.call.analyzed', {
      provider: 'retell',
      callId: 'call-9',
      from: CALLER,
      to: CLIENT,
      summary: 'Wants a cleaning on Tuesday at 10.',
      custom: { intent: 'book_appointment', requested_time: REQUESTED, ...custom },
      ...data,
    });
  const busy = (...ranges: [string, string][]) => ({
    availability: { primary: ranges.map(([start, end]) => ({ start, end })) },
  });

  it('books the requested time when it is free, confirms by SMS and updates the contact', async () => {
    const result = await dryRun(definition, analyzed({}), {
      stubs: { ...contactStub(), ...busy() },
    });
    expect(path_(result)).toEqual([
      'request:would_run',
      'contact:would_run',
      'availability:would_run',
      'slot:would_run',
      'decide:branch',
      'book:would_run',
      'confirm:would_run',
      'tag_booked:would_run',
      'note_booked:would_run',
      'done:would_run',
    ]);
    expect(result.steps[2]?.resolvedInputs).toEqual({
      calendarIds: ['primary'],
      start: '2026-12-01T15:00:00.000Z',
      end: '2026-12-15T15:00:00.000Z',
      timeZone: 'America/New_York',
    });
    expect(result.steps[5]?.resolvedInputs).toEqual({
      calendarId: 'primary',
      title: 'Appointment: Bo Lee',
      start: '2026-12-01T15:00:00.000Z',
      end: '2026-12-01T15:30:00.000Z',
      timeZone: 'America/New_York',
      attendees: [{ phone: CALLER, contactId: 'contact-7', name: 'Bo Lee' }],
      description: 'Wants a cleaning on Tuesday at 10.',
    });
    expect(texts(result)).toEqual([
      {
        from: CLIENT,
        to: CALLER,
        body: "Acme Dental: you're booked for Tue, Dec 1, 10:00 AM. Reply STOP to opt out of texts.",
      },
    ]);
    expect(result.steps[7]?.resolvedInputs).toEqual({
      contactId: 'contact-7',
      tags: ['appointment-booked'],
    });
  });

  it('proposes the next free slot when the requested time is taken', async () => {
    const result = await dryRun(definition, analyzed({}), {
      stubs: { ...contactStub(), ...busy(['2026-12-01T14:30:00Z', '2026-12-01T16:10:00Z']) },
    });
    expect(path_(result).slice(4)).toEqual([
      'decide:branch',
      'propose:would_run',
      'tag_proposed:would_run',
      'note_proposed:would_run',
      'done:would_run',
    ]);
    expect(result.steps[3]?.output).toMatchObject({
      available: false,
      start: '2026-12-01T16:15:00.000Z',
    });
    expect(texts(result)[0]?.body).toBe(
      'Acme Dental: the time you asked for is taken. The next free time is Tue, Dec 1, 11:15 AM. Reply or call us to confirm. Reply STOP to opt out of texts.',
    );
    expect(result.steps.some((s) => s.type === 'calendar.create_event')).toBe(false);
  });

  it('proposes a slot in working hours when the request is outside them', async () => {
    const result = await dryRun(
      definition,
      analyzed({ requested_time: '2026-12-05T10:00:00-05:00' }),
      {
        stubs: { ...contactStub(), ...busy() },
      },
    );
    expect(result.steps[3]?.output).toMatchObject({
      available: false,
      label: 'Mon, Dec 7, 9:00 AM',
    });
  });

  it('notes the contact when no slot is free in the search window', async () => {
    const result = await dryRun(definition, analyzed({}), {
      stubs: { ...contactStub(), ...busy(['2026-11-01T00:00:00Z', '2027-01-01T00:00:00Z']) },
    });
    expect(path_(result).slice(4)).toEqual([
      'decide:branch',
      'note_no_slot:would_run',
      'done:would_run',
    ]);
    expect(texts(result)).toEqual([]);
  });

  it('books but does not text a contact who opted out', async () => {
    const result = await dryRun(definition, analyzed({}), {
      stubs: { ...contactStub(['sms-opt-out']), ...busy() },
    });
    expect(path_(result)).toContain('book:would_run');
    expect(path_(result)).toContain('confirm:skipped');
    expect(texts(result)).toEqual([]);
  });

  it('books the callee of an outbound call', async () => {
    const result = await dryRun(
      definition,
      analyzed({}, { direction: 'outbound', from: CLIENT, to: CALLER }),
      {
        stubs: { ...contactStub(), ...busy() },
      },
    );
    expect(result.steps[1]?.resolvedInputs).toEqual({ phone: CALLER, source: 'voice booking' });
  });

  it.each([
    ['another intent', { intent: 'question' }],
    ['no requested time', { requested_time: undefined }],
  ])('ignores a call with %s', async (_, custom) => {
    await expect(dryRun(definition, analyzed(custom))).resolves.toMatchObject({ matched: false });
  });
});

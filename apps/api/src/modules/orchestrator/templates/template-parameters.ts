import type { TemplateId } from './template-sources.generated';

const E164 = { type: 'string', pattern: '^\\+[1-9]\\d{6,14}$' };
const TEXT = { type: 'string', maxLength: 500 };

/**
 * The install-time parameters of each bundled template: which of its initial `vars` an
 * installer sets, what to ask, and the JSON Schema the answer must meet. Defaults are the
 * template's own `vars`; a var that is null there is required.
 */
export const TEMPLATE_PARAMETERS: Record<
  TemplateId,
  Record<string, { description: string; schema: object }>
> = {
  'missed-call-text-back': {
    fromNumber: {
      description: "The client's SMS number (E.164) the text goes from.",
      schema: E164,
    },
    businessName: { description: 'Passed to the prompt.', schema: TEXT },
  },
  'inbound-sms-ai-reply': {
    businessName: {
      description: 'Passed to the prompt and put before the help text.',
      schema: TEXT,
    },
    helpReply: { description: 'The answer to HELP and INFO.', schema: { ...TEXT, minLength: 1 } },
    optInReply: {
      description: 'The answer to START and UNSTOP.',
      schema: { ...TEXT, minLength: 1 },
    },
    historyLimit: {
      description: 'How many recent messages the prompt sees.',
      schema: { type: 'integer', minimum: 1, maximum: 50 },
    },
  },
  'appointment-booking': {
    fromNumber: { description: "The client's SMS number (E.164) the texts go from.", schema: E164 },
    calendarId: {
      description: 'The calendar to book in.',
      schema: { type: 'string', minLength: 1 },
    },
    timeZone: {
      description: "The client's IANA time zone (working hours and texts use it).",
      schema: { type: 'string', format: 'time-zone' },
    },
    durationMinutes: {
      description: 'Length of an appointment.',
      schema: { type: 'integer', minimum: 5, maximum: 480 },
    },
    searchDays: {
      description: 'How far after the requested time to look for a free slot.',
      schema: { type: 'integer', minimum: 1, maximum: 30 },
    },
    workingHours: {
      description: 'Bookable hours: { start: "09:00", end: "17:00", days: [1..7, 1 = Monday] }.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['start', 'end'],
        properties: {
          start: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
          end: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$' },
          days: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1, maximum: 7 } },
        },
      },
    },
    businessName: { description: 'Put before the texts.', schema: TEXT },
    appointmentTitle: { description: 'The event title, before the contact name.', schema: TEXT },
  },
};

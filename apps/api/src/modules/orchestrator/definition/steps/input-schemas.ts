import { z } from 'zod';

/** Building blocks of the step input schemas (the ports' own types, as zod). */

export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number (+15551234567)');

/** RFC 3339 with an offset (`Z` included), as the calendar port wants times. */
export const dateTime = z.iso.datetime({ offset: true });

export const timeRange = z.strictObject({ start: dateTime, end: dateTime });

export const nonEmpty = z.string().min(1);

export const tags = z.array(nonEmpty).min(1).max(50);

export const SAMPLE_CONTACT = {
  id: 'contact_sample',
  firstName: 'Ana',
  lastName: 'Silva',
  name: 'Ana Silva',
  phone: '+15550100001',
  email: 'ana@example.com',
  tags: [],
};

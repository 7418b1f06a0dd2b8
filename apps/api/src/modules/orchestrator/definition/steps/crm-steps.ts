import { OPPORTUNITY_STATUSES } from '@maxai/core';
import { z } from 'zod';
import { portStep } from '../step-spec';
import { e164, nonEmpty, SAMPLE_CONTACT, tags } from './input-schemas';

const contactInput = {
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  name: z.string().optional(),
  email: z.email().optional(),
  phone: e164.optional(),
  tags: z.array(nonEmpty).optional(),
  customFields: z.record(z.string(), z.unknown()).optional(),
  source: z.string().optional(),
};

const SAMPLE_OPPORTUNITY = {
  id: 'opportunity_sample',
  contactId: SAMPLE_CONTACT.id,
  pipelineId: 'pipeline_sample',
  stageId: 'stage_sample',
  name: 'Sample opportunity',
  status: 'open',
};

const contactTags = z.strictObject({ contactId: nonEmpty, tags });

/** CRM steps: one per CrmPort method (GoHighLevel behind it). */
export const CRM_STEPS = {
  'crm.upsert_contact': portStep({
    summary: 'Create the contact, or update the one with the same email or phone.',
    port: 'crm',
    method: 'upsertContact',
    sideEffecting: true,
    costBearing: false,
    input: z
      .strictObject(contactInput)
      .refine((c) => c.email !== undefined || c.phone !== undefined, 'needs an email or a phone'),
    sampleOutput: { contact: SAMPLE_CONTACT, created: false },
    call: (crm, input, options) => crm.upsertContact(input, options),
  }),
  'crm.get_contact': portStep({
    summary: 'Read one contact by id.',
    port: 'crm',
    method: 'getContact',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({ contactId: nonEmpty }),
    sampleOutput: SAMPLE_CONTACT,
    call: (crm, input, options) => crm.getContact(input.contactId, options),
  }),
  'crm.search_contacts': portStep({
    summary: 'Contacts matching a free-text query, an email or a phone (an array).',
    port: 'crm',
    method: 'searchContacts',
    sideEffecting: false,
    costBearing: false,
    input: z.strictObject({
      query: z.string().optional(),
      email: z.email().optional(),
      phone: e164.optional(),
      limit: z.int().min(1).max(100).optional(),
    }),
    sampleOutput: [SAMPLE_CONTACT],
    call: (crm, input, options) => crm.searchContacts(input, options),
  }),
  'crm.add_note': portStep({
    summary: 'Add a note to a contact.',
    port: 'crm',
    method: 'addNote',
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({ contactId: nonEmpty, body: z.string().min(1).max(10_000) }),
    sampleOutput: { id: 'note_sample' },
    call: (crm, input, options) => crm.addNote(input.contactId, input.body, options),
  }),
  'crm.add_tags': portStep({
    summary: "Tag a contact; the output is the contact's tags after the change.",
    port: 'crm',
    method: 'addTags',
    sideEffecting: true,
    costBearing: false,
    input: contactTags,
    sampleOutput: ['sample-tag'],
    call: (crm, input, options) => crm.addTags(input.contactId, input.tags, options),
  }),
  'crm.remove_tags': portStep({
    summary: "Untag a contact; the output is the contact's tags after the change.",
    port: 'crm',
    method: 'removeTags',
    sideEffecting: true,
    costBearing: false,
    input: contactTags,
    sampleOutput: [],
    call: (crm, input, options) => crm.removeTags(input.contactId, input.tags, options),
  }),
  'crm.create_opportunity': portStep({
    summary: 'Open an opportunity for a contact in a pipeline stage.',
    port: 'crm',
    method: 'createOpportunity',
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({
      contactId: nonEmpty,
      pipelineId: nonEmpty,
      stageId: nonEmpty,
      name: nonEmpty,
      status: z.enum(OPPORTUNITY_STATUSES).optional(),
      monetaryValue: z.number().nonnegative().optional(),
    }),
    sampleOutput: SAMPLE_OPPORTUNITY,
    call: (crm, input, options) => crm.createOpportunity(input, options),
  }),
  'crm.update_opportunity': portStep({
    summary: 'Move an opportunity (stage, status, value, name).',
    port: 'crm',
    method: 'updateOpportunity',
    sideEffecting: true,
    costBearing: false,
    input: z.strictObject({
      opportunityId: nonEmpty,
      pipelineId: nonEmpty.optional(),
      stageId: nonEmpty.optional(),
      name: nonEmpty.optional(),
      status: z.enum(OPPORTUNITY_STATUSES).optional(),
      monetaryValue: z.number().nonnegative().optional(),
    }),
    sampleOutput: { ...SAMPLE_OPPORTUNITY, status: 'won' },
    call: (crm, { opportunityId, ...patch }, options) =>
      crm.updateOpportunity(opportunityId, patch, options),
  }),
};

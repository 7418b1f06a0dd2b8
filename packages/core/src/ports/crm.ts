import type { CallOptions, PortResult } from './provider';

export interface Contact {
  id: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  name?: string | undefined;
  /** Lower-cased. */
  email?: string | undefined;
  /** E.164, e.g. `+15551234567`. */
  phone?: string | undefined;
  tags: string[];
  customFields?: Record<string, unknown> | undefined;
  createdAt?: string | undefined;
}

export interface ContactInput {
  firstName?: string | undefined;
  lastName?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  tags?: string[] | undefined;
  customFields?: Record<string, unknown> | undefined;
  source?: string | undefined;
}

export interface ContactQuery {
  /** Free text over name, email and phone. */
  query?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  limit?: number | undefined;
}

export const OPPORTUNITY_STATUSES = ['open', 'won', 'lost', 'abandoned'] as const;
export type OpportunityStatus = (typeof OPPORTUNITY_STATUSES)[number];

export interface Opportunity {
  id: string;
  contactId: string;
  pipelineId: string;
  stageId: string;
  name: string;
  status: OpportunityStatus;
  /** In the account's currency, major units (as CRMs keep it). */
  monetaryValue?: number | undefined;
}

export interface OpportunityInput {
  contactId: string;
  pipelineId: string;
  stageId: string;
  name: string;
  status?: OpportunityStatus | undefined;
  monetaryValue?: number | undefined;
}

/** A CRM: contacts, notes, tags and opportunities (GoHighLevel). */
export interface CrmPort {
  /** Creates the contact, or updates the one with the same email or phone. */
  upsertContact(
    input: ContactInput,
    options?: CallOptions,
  ): Promise<PortResult<{ contact: Contact; created: boolean }>>;
  getContact(contactId: string, options?: CallOptions): Promise<PortResult<Contact>>;
  searchContacts(query: ContactQuery, options?: CallOptions): Promise<PortResult<Contact[]>>;
  addNote(
    contactId: string,
    body: string,
    options?: CallOptions,
  ): Promise<PortResult<{ id: string }>>;
  /** Answers the contact's tags after the change. */
  addTags(contactId: string, tags: string[], options?: CallOptions): Promise<PortResult<string[]>>;
  removeTags(
    contactId: string,
    tags: string[],
    options?: CallOptions,
  ): Promise<PortResult<string[]>>;
  createOpportunity(
    input: OpportunityInput,
    options?: CallOptions,
  ): Promise<PortResult<Opportunity>>;
  updateOpportunity(
    opportunityId: string,
    patch: Partial<Omit<OpportunityInput, 'contactId'>>,
    options?: CallOptions,
  ): Promise<PortResult<Opportunity>>;
}

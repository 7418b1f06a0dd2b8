import type {
  CallOptions,
  Contact,
  ContactInput,
  ContactQuery,
  CrmPort,
  Opportunity,
  OpportunityInput,
  OpportunityStatus,
  PortResult,
} from '@maxai/core';
import type { ProviderHttp } from '../http';
import {
  GHL_VERSION_CRM,
  ghlHttp,
  replaySafeKey,
  type GhlAdapterOptions,
  type GhlContactBody,
} from './ghl-http';

interface GhlOpportunityBody {
  id: string;
  contactId: string;
  pipelineId: string;
  pipelineStageId: string;
  name: string;
  status: OpportunityStatus;
  monetaryValue?: number | null;
}

/** A GoHighLevel contact as our Contact. */
export function contactFromGhl(body: GhlContactBody): Contact {
  const customFields = body.customFields?.length
    ? Object.fromEntries(body.customFields.map((f) => [f.id, f.value]))
    : undefined;
  return {
    id: body.id,
    firstName: body.firstName ?? undefined,
    lastName: body.lastName ?? undefined,
    name: body.name ?? undefined,
    email: body.email?.toLowerCase() ?? undefined,
    phone: body.phone ?? undefined,
    tags: body.tags ?? [],
    customFields,
    createdAt: body.dateAdded,
  };
}

function opportunityFromGhl(body: GhlOpportunityBody): Opportunity {
  return {
    id: body.id,
    contactId: body.contactId,
    pipelineId: body.pipelineId,
    stageId: body.pipelineStageId,
    name: body.name,
    status: body.status,
    monetaryValue: body.monetaryValue ?? undefined,
  };
}

/** The upsert body GoHighLevel takes (docs/ghl/contacts/upsert-contact). */
export function upsertBody(locationId: string, input: ContactInput): Record<string, unknown> {
  return {
    locationId,
    firstName: input.firstName,
    lastName: input.lastName,
    name: input.name,
    email: input.email?.toLowerCase(),
    phone: input.phone,
    tags: input.tags,
    source: input.source,
    customFields: input.customFields
      ? Object.entries(input.customFields).map(([key, value]) => ({ key, field_value: value }))
      : undefined,
  };
}

/**
 * CrmPort on GoHighLevel's LeadConnector API v2 (Version 2021-07-28): contacts (upsert, get,
 * search), notes, tags and opportunities of one sub-account.
 */
export class GhlCrm implements CrmPort {
  private readonly http: ProviderHttp;

  constructor(private readonly options: GhlAdapterOptions) {
    this.http = ghlHttp(options, GHL_VERSION_CRM);
  }

  async upsertContact(
    input: ContactInput,
    options?: CallOptions,
  ): Promise<PortResult<{ contact: Contact; created: boolean }>> {
    const res = await this.http.request<{ new: boolean; contact: GhlContactBody }>(
      'POST',
      '/contacts/upsert',
      {
        json: upsertBody(this.options.locationId, input),
        idempotencyKey: replaySafeKey(options?.idempotencyKey),
        signal: options?.signal,
      },
    );
    return { data: { contact: contactFromGhl(res.body.contact), created: res.body.new } };
  }

  async getContact(contactId: string, options?: CallOptions): Promise<PortResult<Contact>> {
    const res = await this.http.request<{ contact: GhlContactBody }>(
      'GET',
      `/contacts/${encodeURIComponent(contactId)}`,
      { signal: options?.signal },
    );
    return { data: contactFromGhl(res.body.contact) };
  }

  /** POST /contacts/search (docs/ghl/contacts/search-contacts-advanced). */
  async searchContacts(query: ContactQuery, options?: CallOptions): Promise<PortResult<Contact[]>> {
    const filters = [
      ...(query.email
        ? [{ field: 'email', operator: 'eq', value: query.email.toLowerCase() }]
        : []),
      ...(query.phone ? [{ field: 'phone', operator: 'eq', value: query.phone }] : []),
    ];
    const res = await this.http.request<{ contacts: GhlContactBody[] }>(
      'POST',
      '/contacts/search',
      {
        json: {
          locationId: this.options.locationId,
          pageLimit: query.limit ?? 20,
          query: query.query,
          filters,
        },
        idempotencyKey: replaySafeKey(options?.idempotencyKey),
        signal: options?.signal,
      },
    );
    return { data: res.body.contacts.map(contactFromGhl) };
  }

  async addNote(
    contactId: string,
    body: string,
    options?: CallOptions,
  ): Promise<PortResult<{ id: string }>> {
    const res = await this.http.request<{ note: { id: string } }>(
      'POST',
      `/contacts/${encodeURIComponent(contactId)}/notes`,
      { json: { body }, idempotencyKey: options?.idempotencyKey, signal: options?.signal },
    );
    return { data: { id: res.body.note.id } };
  }

  async addTags(
    contactId: string,
    tags: string[],
    options?: CallOptions,
  ): Promise<PortResult<string[]>> {
    const res = await this.http.request<{ tags: string[] }>(
      'POST',
      `/contacts/${encodeURIComponent(contactId)}/tags`,
      {
        json: { tags },
        idempotencyKey: replaySafeKey(options?.idempotencyKey),
        signal: options?.signal,
      },
    );
    return { data: res.body.tags };
  }

  async removeTags(
    contactId: string,
    tags: string[],
    options?: CallOptions,
  ): Promise<PortResult<string[]>> {
    const res = await this.http.request<{ tags: string[] }>(
      'DELETE',
      `/contacts/${encodeURIComponent(contactId)}/tags`,
      { json: { tags }, signal: options?.signal },
    );
    return { data: res.body.tags };
  }

  /** POST /opportunities/ (docs/ghl/opportunities/create-opportunity). */
  async createOpportunity(
    input: OpportunityInput,
    options?: CallOptions,
  ): Promise<PortResult<Opportunity>> {
    const res = await this.http.request<{ opportunity: GhlOpportunityBody }>(
      'POST',
      '/opportunities/',
      {
        json: {
          locationId: this.options.locationId,
          contactId: input.contactId,
          pipelineId: input.pipelineId,
          pipelineStageId: input.stageId,
          name: input.name,
          status: input.status ?? 'open',
          monetaryValue: input.monetaryValue,
        },
        idempotencyKey: options?.idempotencyKey,
        signal: options?.signal,
      },
    );
    return { data: opportunityFromGhl(res.body.opportunity) };
  }

  async updateOpportunity(
    opportunityId: string,
    patch: Partial<Omit<OpportunityInput, 'contactId'>>,
    options?: CallOptions,
  ): Promise<PortResult<Opportunity>> {
    const res = await this.http.request<{ opportunity: GhlOpportunityBody }>(
      'PUT',
      `/opportunities/${encodeURIComponent(opportunityId)}`,
      {
        json: {
          pipelineId: patch.pipelineId,
          pipelineStageId: patch.stageId,
          name: patch.name,
          status: patch.status,
          monetaryValue: patch.monetaryValue,
        },
        signal: options?.signal,
      },
    );
    return { data: opportunityFromGhl(res.body.opportunity) };
  }
}

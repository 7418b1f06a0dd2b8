import { ProviderError, type CrmPort } from '@maxai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface CrmContractSetup {
  crm: CrmPort;
  /** A CRM of another tenant (another sub-account) on the same provider. */
  otherTenant: CrmPort;
  pipeline: { pipelineId: string; stageId: string; nextStageId: string };
  teardown(): Promise<void>;
}

const unique = () => Math.random().toString(36).slice(2, 10);

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** The CrmPort contract: what every CRM adapter must do, whatever the provider. */
export function runCrmContract(label: string, setup: () => Promise<CrmContractSetup>): void {
  describe(`CrmPort contract: ${label}`, () => {
    let ctx: CrmContractSetup;
    beforeAll(async () => {
      ctx = await setup();
    });
    afterAll(async () => {
      await ctx.teardown();
    });

    it('upserts: creates, then updates the contact with the same email (lower-cased)', async () => {
      const email = `Ada.${unique()}@Example.com`;
      const first = await ctx.crm.upsertContact({
        firstName: 'Ada',
        lastName: 'Lovelace',
        email,
        tags: ['lead'],
        source: 'contract',
      });
      expect(first.data.created).toBe(true);
      expect(first.data.contact.email).toBe(email.toLowerCase());
      expect(first.data.contact.tags).toEqual(['lead']);
      expect(first.data.contact.id).toEqual(expect.any(String));

      const second = await ctx.crm.upsertContact({
        email: email.toLowerCase(),
        phone: '+15551230001',
      });
      expect(second.data.created).toBe(false);
      expect(second.data.contact.id).toBe(first.data.contact.id);
      expect(second.data.contact.phone).toBe('+15551230001');
      expect(second.data.contact.firstName).toBe('Ada');
    });

    it('upserts by phone and keeps custom fields', async () => {
      const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
      const created = await ctx.crm.upsertContact({ phone, customFields: { plan: 'gold' } });
      const again = await ctx.crm.upsertContact({ phone, firstName: 'Grace' });
      expect(again.data.created).toBe(false);
      expect(again.data.contact.id).toBe(created.data.contact.id);
      const fetched = await ctx.crm.getContact(created.data.contact.id);
      expect(fetched.data).toMatchObject({
        phone,
        firstName: 'Grace',
        customFields: { plan: 'gold' },
      });
    });

    it('gets a contact; an unknown one is not_found', async () => {
      const { data } = await ctx.crm.upsertContact({
        email: `get.${unique()}@example.com`,
        name: 'Get Me',
      });
      const got = await ctx.crm.getContact(data.contact.id);
      expect(got.data).toMatchObject({ id: data.contact.id, email: data.contact.email, tags: [] });
      expect((await rejection(ctx.crm.getContact('no-such-contact'))).kind).toBe('not_found');
    });

    it('searches by email, phone and free text, honouring the limit', async () => {
      const tag = unique();
      const email = `search.${tag}@example.com`;
      const phone = '+1555777' + String(Math.floor(Math.random() * 1e4)).padStart(4, '0');
      const a = await ctx.crm.upsertContact({ email, firstName: `Zed${tag}` });
      const b = await ctx.crm.upsertContact({ phone, firstName: `Zed${tag}` });
      expect(
        (await ctx.crm.searchContacts({ email: email.toUpperCase() })).data.map((c) => c.id),
      ).toEqual([a.data.contact.id]);
      expect((await ctx.crm.searchContacts({ phone })).data.map((c) => c.id)).toEqual([
        b.data.contact.id,
      ]);
      const byText = await ctx.crm.searchContacts({ query: `zed${tag}` });
      expect(byText.data.map((c) => c.id).sort()).toEqual(
        [a.data.contact.id, b.data.contact.id].sort(),
      );
      expect((await ctx.crm.searchContacts({ query: `zed${tag}`, limit: 1 })).data).toHaveLength(1);
      expect((await ctx.crm.searchContacts({ email: `nobody.${tag}@example.com` })).data).toEqual(
        [],
      );
    });

    it('adds notes', async () => {
      const { data } = await ctx.crm.upsertContact({ email: `note.${unique()}@example.com` });
      const note = await ctx.crm.addNote(data.contact.id, 'Called, wants a demo on Tuesday');
      expect(note.data.id).toEqual(expect.any(String));
      expect((await rejection(ctx.crm.addNote('no-such-contact', 'x'))).kind).toBe('not_found');
    });

    it('adds and removes tags, answering the tags after the change', async () => {
      const { data } = await ctx.crm.upsertContact({
        email: `tags.${unique()}@example.com`,
        tags: ['a'],
      });
      const added = await ctx.crm.addTags(data.contact.id, ['b', 'c', 'b']);
      expect([...added.data].sort()).toEqual(['a', 'b', 'c']);
      const again = await ctx.crm.addTags(data.contact.id, ['c']);
      expect([...again.data].sort()).toEqual(['a', 'b', 'c']);
      const removed = await ctx.crm.removeTags(data.contact.id, ['a', 'c', 'missing']);
      expect(removed.data).toEqual(['b']);
      expect((await ctx.crm.getContact(data.contact.id)).data.tags).toEqual(['b']);
    });

    it('creates opportunities (open by default) and updates stage, status and value', async () => {
      const { data } = await ctx.crm.upsertContact({ email: `opp.${unique()}@example.com` });
      const created = await ctx.crm.createOpportunity({
        contactId: data.contact.id,
        pipelineId: ctx.pipeline.pipelineId,
        stageId: ctx.pipeline.stageId,
        name: 'Website redesign',
        monetaryValue: 1200.5,
      });
      expect(created.data).toMatchObject({
        contactId: data.contact.id,
        pipelineId: ctx.pipeline.pipelineId,
        stageId: ctx.pipeline.stageId,
        name: 'Website redesign',
        status: 'open',
        monetaryValue: 1200.5,
      });
      const updated = await ctx.crm.updateOpportunity(created.data.id, {
        stageId: ctx.pipeline.nextStageId,
        status: 'won',
        monetaryValue: 1500,
      });
      expect(updated.data).toMatchObject({
        id: created.data.id,
        stageId: ctx.pipeline.nextStageId,
        status: 'won',
        monetaryValue: 1500,
        name: 'Website redesign',
      });
      expect(
        (await rejection(ctx.crm.updateOpportunity('no-such-opp', { status: 'lost' }))).kind,
      ).toBe('not_found');
    });

    it('rejects an opportunity for an unknown contact as invalid', async () => {
      const error = await rejection(
        ctx.crm.createOpportunity({
          contactId: 'no-such-contact',
          pipelineId: ctx.pipeline.pipelineId,
          stageId: ctx.pipeline.stageId,
          name: 'x',
        }),
      );
      expect(error.kind).toBe('invalid');
    });

    it("keeps tenants apart: another tenant's contact is neither found nor searchable", async () => {
      const email = `tenant.${unique()}@example.com`;
      const { data } = await ctx.crm.upsertContact({ email });
      const error = await rejection(ctx.otherTenant.getContact(data.contact.id));
      expect(['not_found', 'auth']).toContain(error.kind);
      expect((await ctx.otherTenant.searchContacts({ email })).data).toEqual([]);
    });
  });
}

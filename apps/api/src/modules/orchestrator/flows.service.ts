import { PORT_NAMES as DB_PORTS, withTenant, type Database, type Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { isAllowed } from '../iam/permissions';
import type { BindingsService } from '../integrations/bindings.service';
import { dryRun, type DryRunResult } from './definition/dry-run';
import type { FlowIssue, PortName } from './definition/flow-types';
import { parseFlowDocument } from './definition/parse-flow-document';
import type { FlowEvent } from './definition/trigger';
import { validateFlow, type FlowValidation } from './definition/validate-flow';
import type { FlowsRepository, RunFilter } from './flows.repository';
import type { RunScheduler } from './runtime/run-scheduler';
import type {
  FlowRow,
  FlowVersionRow,
  RunRow,
  RunsRepository,
  StepRow,
} from './runtime/runs.repository';
import type { TenantSettingsService } from '../tenancy/tenant-settings.service';
import { flowTemplate, instantiateTemplate } from './templates/templates';

/** A definition as given: a JSON object, or a JSON/YAML document as text. */
export type DefinitionInput = { definition: unknown } | { source: string; format: 'json' | 'yaml' };

const invalid = (errors: FlowIssue[], warnings: FlowIssue[] = []) =>
  new ProblemError('unprocessable-content', 'The flow definition is not valid.', {
    errors: errors.map((e) => ({ field: e.pointer || '/', message: e.message, ...lineOf(e) })),
    warnings,
  });

const lineOf = (issue: FlowIssue & { line?: number; column?: number }) =>
  issue.line === undefined ? {} : { line: issue.line, column: issue.column };

/** Flows, their immutable versions, activation, dry runs, and the runs they started. */
export class FlowsService {
  constructor(
    private readonly db: Database,
    private readonly repository: FlowsRepository,
    private readonly runsRepository: RunsRepository,
    private readonly bindings: BindingsService,
    private readonly settings: Pick<TenantSettingsService, 'httpAllowlist'>,
    private readonly audit: AuditService,
    private readonly scheduler: RunScheduler,
  ) {}

  async list(caller: Authenticated, tenantId: string): Promise<FlowRow[]> {
    const rows = await withTenant(this.db, tenantId, (tx) => this.repository.flows(tx, tenantId));
    return rows.filter((r) =>
      isAllowed(caller.principal, 'flows:read', { tenantId, clientId: r.clientId ?? undefined }),
    );
  }

  async get(
    caller: Authenticated,
    tenantId: string,
    flowId: string,
  ): Promise<{ flow: FlowRow; versions: FlowVersionRow[] }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const flow = await this.visibleFlow(tx, caller, tenantId, flowId, 'flows:read');
      return { flow, versions: await this.repository.versions(tx, tenantId, flowId) };
    });
  }

  async create(
    caller: Authenticated,
    tenantId: string,
    input: DefinitionInput & { name: string; clientId?: string | undefined; template?: string },
    meta: RequestMeta,
  ): Promise<{ flow: FlowRow; version: FlowVersionRow; warnings: FlowIssue[] }> {
    assertPermission(caller, 'flows:write', tenantId, input.clientId);
    const validation = await this.validate(tenantId, input.clientId, input, 'save');
    if (!validation.ok) throw invalid(validation.errors, validation.warnings);
    return withTenant(this.db, tenantId, async (tx) => {
      const flow = await this.repository.insertFlow(tx, {
        tenantId,
        clientId: input.clientId ?? null,
        name: input.name,
        template: input.template ?? null,
        createdBy: caller.actor.id,
      });
      const version = await this.repository.insertVersion(tx, {
        tenantId,
        flowId: flow.id,
        version: 1,
        definition: validation.definition as unknown as Record<string, unknown>,
        createdBy: caller.actor.id,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow.created',
        target: { type: 'flow', id: flow.id },
        changes: { name: input.name, clientId: input.clientId, template: input.template },
        ...meta,
      });
      return { flow, version, warnings: validation.warnings };
    });
  }

  async addVersion(
    caller: Authenticated,
    tenantId: string,
    flowId: string,
    input: DefinitionInput & { changeNote?: string | undefined },
    meta: RequestMeta,
  ): Promise<{ version: FlowVersionRow; warnings: FlowIssue[] }> {
    const flow = await withTenant(this.db, tenantId, (tx) =>
      this.visibleFlow(tx, caller, tenantId, flowId, 'flows:write'),
    );
    if (!('source' in input) && input.definition === undefined) {
      throw new ProblemError('unprocessable-content', 'Give the definition, or its source.', {
        errors: [
          { field: 'body.definition', message: 'give exactly one of definition and source' },
        ],
      });
    }
    const validation = await this.validate(tenantId, flow.clientId ?? undefined, input, 'save');
    if (!validation.ok) throw invalid(validation.errors, validation.warnings);
    return withTenant(this.db, tenantId, async (tx) => {
      // Serializes concurrent saves of one flow: each gets the next number.
      await this.repository.updateFlow(tx, tenantId, flowId, {});
      const number = (await this.repository.latestVersion(tx, tenantId, flowId)) + 1;
      const version = await this.repository.insertVersion(tx, {
        tenantId,
        flowId,
        version: number,
        definition: validation.definition as unknown as Record<string, unknown>,
        changeNote: input.changeNote ?? null,
        createdBy: caller.actor.id,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow.version_created',
        target: { type: 'flow', id: flowId },
        changes: { version: number },
        ...meta,
      });
      return { version, warnings: validation.warnings };
    });
  }

  /**
   * Makes `version` the one new runs start on, after checking again what activation needs
   * (bound ports, allowlisted hosts, executable steps). Runs already started keep theirs.
   */
  async activate(
    caller: Authenticated,
    tenantId: string,
    flowId: string,
    requested: number | undefined,
    meta: RequestMeta,
  ): Promise<FlowRow> {
    const { flow, definition, version } = await withTenant(this.db, tenantId, async (tx) => {
      const found = await this.visibleFlow(tx, caller, tenantId, flowId, 'flows:activate');
      const versions = await this.repository.versions(tx, tenantId, flowId);
      const row =
        requested === undefined ? versions[0] : versions.find((v) => v.version === requested);
      if (!row) {
        throw new ProblemError('not-found', `Flow ${flowId} has no version ${String(requested)}.`);
      }
      return { flow: found, definition: row.definition, version: row.version };
    });
    const validation = await this.validate(
      tenantId,
      flow.clientId ?? undefined,
      { definition },
      'activate',
    );
    if (!validation.ok) throw invalid(validation.errors, validation.warnings);
    return withTenant(this.db, tenantId, async (tx) => {
      const updated = await this.repository.updateFlow(tx, tenantId, flowId, {
        activeVersion: version,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow.activated',
        target: { type: 'flow', id: flowId },
        changes: { version, previous: flow.activeVersion },
        ...meta,
      });
      return updated;
    });
  }

  async deactivate(caller: Authenticated, tenantId: string, flowId: string, meta: RequestMeta) {
    return withTenant(this.db, tenantId, async (tx) => {
      const flow = await this.visibleFlow(tx, caller, tenantId, flowId, 'flows:activate');
      const updated = await this.repository.updateFlow(tx, tenantId, flowId, {
        activeVersion: null,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow.deactivated',
        target: { type: 'flow', id: flowId },
        changes: { previous: flow.activeVersion },
        ...meta,
      });
      return updated;
    });
  }

  async rename(
    caller: Authenticated,
    tenantId: string,
    flowId: string,
    name: string,
    meta: RequestMeta,
  ): Promise<FlowRow> {
    return withTenant(this.db, tenantId, async (tx) => {
      const flow = await this.visibleFlow(tx, caller, tenantId, flowId, 'flows:write');
      const updated = await this.repository.updateFlow(tx, tenantId, flowId, { name });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow.renamed',
        target: { type: 'flow', id: flowId },
        changes: { name, previous: flow.name },
        ...meta,
      });
      return updated;
    });
  }

  /**
   * Deletes a flow with its versions and run history. Refused while it is active or has runs in
   * progress: deactivate it and let (or make) them end first. Usage events stay (billing).
   */
  async remove(caller: Authenticated, tenantId: string, flowId: string, meta: RequestMeta) {
    await withTenant(this.db, tenantId, async (tx) => {
      const flow = await this.visibleFlow(tx, caller, tenantId, flowId, 'flows:write');
      if (flow.activeVersion !== null) {
        throw new ProblemError('conflict', 'The flow is active: deactivate it first.');
      }
      if (await this.repository.hasUnfinishedRuns(tx, tenantId, flowId)) {
        throw new ProblemError(
          'conflict',
          'The flow has runs in progress: let them end or cancel them first.',
        );
      }
      await this.repository.deleteFlow(tx, tenantId, flowId);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow.deleted',
        target: { type: 'flow', id: flowId },
        changes: { name: flow.name },
        ...meta,
      });
    });
  }

  /** Validates and simulates a definition against a sample event: no side effects. */
  async dryRun(
    caller: Authenticated,
    tenantId: string,
    input: DefinitionInput & { clientId?: string | undefined },
    event: FlowEvent,
    stubs: Record<string, unknown> | undefined,
  ): Promise<{ result: DryRunResult; warnings: FlowIssue[] }> {
    assertPermission(caller, 'flows:read', tenantId, input.clientId);
    const validation = await this.validate(tenantId, input.clientId, input, 'save');
    if (!validation.ok) throw invalid(validation.errors, validation.warnings);
    const result = await dryRun(validation.definition, event, stubs ? { stubs } : {});
    return { result, warnings: validation.warnings };
  }

  /** Installs a bundled template for a client (optionally activating it at once). */
  async install(
    caller: Authenticated,
    tenantId: string,
    clientId: string,
    input: {
      template: string;
      name?: string | undefined;
      parameters: Record<string, unknown>;
      activate: boolean;
    },
    meta: RequestMeta,
  ) {
    assertPermission(caller, 'flows:write', tenantId, clientId);
    const exists = await withTenant(this.db, tenantId, (tx) =>
      this.repository.clientExists(tx, tenantId, clientId),
    );
    if (!exists) throw notFound();
    const template = flowTemplate(input.template);
    if (!template) throw new ProblemError('not-found', `No flow template ${input.template}.`);
    const instance = instantiateTemplate(template, input.parameters);
    if (!instance.ok) throw invalid(instance.errors);
    const created = await this.create(
      caller,
      tenantId,
      {
        name: input.name ?? template.title,
        clientId,
        template: template.id,
        definition: instance.definition,
      },
      meta,
    );
    const flow = input.activate
      ? await this.activate(caller, tenantId, created.flow.id, 1, meta)
      : created.flow;
    return { ...created, flow };
  }

  async runs(caller: Authenticated, tenantId: string, filter: RunFilter): Promise<RunRow[]> {
    const rows = await withTenant(this.db, tenantId, (tx) =>
      this.repository.runs(tx, tenantId, filter),
    );
    return rows.filter((r) =>
      isAllowed(caller.principal, 'runs:read', { tenantId, clientId: r.clientId ?? undefined }),
    );
  }

  async run(
    caller: Authenticated,
    tenantId: string,
    runId: string,
  ): Promise<{ run: RunRow; steps: StepRow[] }> {
    return withTenant(this.db, tenantId, async (tx) => {
      const run = await this.visibleRun(tx, caller, tenantId, runId, 'runs:read');
      return { run, steps: await this.runsRepository.steps(tx, tenantId, runId) };
    });
  }

  /** Stops a run that has not ended; a step in flight finishes, nothing after it runs. */
  async cancel(caller: Authenticated, tenantId: string, runId: string, meta: RequestMeta) {
    return withTenant(this.db, tenantId, async (tx) => {
      const run = await this.visibleRun(tx, caller, tenantId, runId, 'runs:operate');
      if (ENDED.has(run.status)) {
        throw new ProblemError('conflict', `The run already ended (${run.status}).`);
      }
      const updated = await this.runsRepository.updateRun(tx, tenantId, runId, {
        status: 'cancelled',
        finishedAt: new Date(),
        lockedBy: null,
        lockedUntil: null,
        wakeAt: null,
        waitingType: null,
        waitingKey: null,
      });
      // The step in progress (a delay, a wait, a call) ends with the run; an executor finishing
      // a call meanwhile records its output on it but moves the run no further.
      await this.repository.cancelUnfinishedSteps(tx, tenantId, runId);
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow_run.cancelled',
        target: { type: 'flow_run', id: runId },
        ...meta,
      });
      return updated;
    });
  }

  /**
   * Runs a failed (or timed-out, or cancelled) run again from the step it stopped at, on the same
   * flow version. A new attempt group: side effects get new idempotency keys.
   */
  async rerun(caller: Authenticated, tenantId: string, runId: string, meta: RequestMeta) {
    const rerun = await withTenant(this.db, tenantId, async (tx) => {
      const run = await this.visibleRun(tx, caller, tenantId, runId, 'runs:operate');
      if (!['failed', 'timed_out', 'cancelled'].includes(run.status)) {
        throw new ProblemError(
          'conflict',
          `Only an ended, unsuccessful run can run again (${run.status}).`,
        );
      }
      const version = await this.runsRepository.version(tx, tenantId, run.flowId, run.version);
      const timeout = (version?.definition as { timeoutSeconds?: number } | undefined)
        ?.timeoutSeconds;
      const updated = await this.runsRepository.updateRun(tx, tenantId, runId, {
        status: 'queued',
        error: null,
        finishedAt: null,
        attemptGroup: run.attemptGroup + 1,
        queuedAt: new Date(),
        deadlineAt: timeout ? new Date(Date.now() + timeout * 1000) : null,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: caller.actor,
        action: 'flow_run.rerun',
        target: { type: 'flow_run', id: runId },
        changes: { fromStep: run.cursor, attemptGroup: run.attemptGroup + 1 },
        ...meta,
      });
      return updated;
    });
    this.scheduler.wake();
    return rerun;
  }

  private async validate(
    tenantId: string,
    clientId: string | undefined,
    input: DefinitionInput,
    phase: 'save' | 'activate',
  ): Promise<FlowValidation> {
    let document: unknown;
    if ('source' in input) {
      const parsed = parseFlowDocument(input.source, input.format);
      if (!parsed.ok) throw invalid(parsed.errors);
      document = parsed.value;
    } else {
      document = input.definition;
    }
    const boundPorts: PortName[] = [];
    for (const port of DB_PORTS) {
      if (port === 'payments') continue;
      if (await this.bindings.resolve(tenantId, port, { clientId })) boundPorts.push(port);
    }
    const allowedHosts = await this.settings.httpAllowlist(tenantId);
    return validateFlow(document, { phase, boundPorts, allowedHosts });
  }

  private async visibleFlow(
    tx: Tx,
    caller: Authenticated,
    tenantId: string,
    flowId: string,
    permission: 'flows:read' | 'flows:write' | 'flows:activate',
  ): Promise<FlowRow> {
    const flow = await this.repository.flow(tx, tenantId, flowId);
    if (!flow) throw notFound();
    assertPermission(caller, permission, tenantId, flow.clientId ?? undefined);
    return flow;
  }

  private async visibleRun(
    tx: Tx,
    caller: Authenticated,
    tenantId: string,
    runId: string,
    permission: 'runs:read' | 'runs:operate',
  ): Promise<RunRow> {
    const run = await this.runsRepository.run(tx, tenantId, runId);
    if (!run) throw notFound();
    assertPermission(caller, permission, tenantId, run.clientId ?? undefined);
    return run;
  }
}

const ENDED = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

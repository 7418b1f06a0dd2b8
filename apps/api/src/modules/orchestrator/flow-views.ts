import type { FlowRow, FlowVersionRow, RunRow, StepRow } from './runtime/runs.repository';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const flowView = (row: FlowRow) => ({
  id: row.id,
  name: row.name,
  clientId: row.clientId,
  activeVersion: row.activeVersion,
  template: row.template,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export const versionView = (row: FlowVersionRow) => ({
  version: row.version,
  definition: row.definition,
  changeNote: row.changeNote,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
});

export const runView = (row: RunRow) => ({
  id: row.id,
  flowId: row.flowId,
  version: row.version,
  clientId: row.clientId,
  agentId: row.agentId,
  triggerEventId: row.triggerEventId,
  status: row.status,
  cursor: row.cursor,
  attemptGroup: row.attemptGroup,
  error: row.error,
  queuedAt: row.queuedAt.toISOString(),
  startedAt: iso(row.startedAt),
  finishedAt: iso(row.finishedAt),
  wakeAt: iso(row.wakeAt),
  waitingFor: row.waitingType,
  deadlineAt: iso(row.deadlineAt),
});

export const runDetail = (row: RunRow, steps: StepRow[]) => ({
  ...runView(row),
  vars: row.vars,
  triggerEvent: row.triggerEvent,
  steps: steps.map((s) => ({
    seq: s.seq,
    stepId: s.stepId,
    type: s.type,
    status: s.status,
    input: s.input,
    output: s.output,
    attempts: s.attempts,
    error: s.error,
    errorKind: s.errorKind,
    idempotencyKey: s.idempotencyKey,
    promptVersionId: s.promptVersionId,
    runnableAt: s.runnableAt.toISOString(),
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
  })),
});

import type { JobContext, JobEnvelope } from '@maxai/core';
import { z } from 'zod';

/** The fields every job payload carries; job schemas extend it. */
export const jobEnvelopeSchema = z.object({
  tenantId: z.uuid(),
  correlationId: z.string().min(1).max(128),
});

export interface JobDefinition<P extends JobEnvelope = JobEnvelope> {
  /** Stable and versioned: `<context>.<verb-noun>.v<N>`; a breaking payload change is a new name. */
  name: string;
  schema: z.ZodType<P>;
  maxAttempts?: number;
  /** Per-attempt time limit; the attempt fails (and is retried) when exceeded. */
  timeoutMs?: number;
  handler(payload: P, context: JobContext): Promise<void>;
}

const JOB_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*\.v[1-9][0-9]*$/;

export function defineJob<P extends JobEnvelope>(definition: JobDefinition<P>): JobDefinition<P> {
  if (!JOB_NAME.test(definition.name)) {
    throw new Error(`job name "${definition.name}" must look like "context.verb-noun.v1"`);
  }
  return definition;
}

/** The payload problems of a failed parse, one `field: message` each (`(root)` for the whole). */
export function payloadProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

export class UnknownJobError extends Error {
  constructor(name: string) {
    super(`no job named "${name}" is registered`);
    this.name = 'UnknownJobError';
  }
}

export class JobRegistry {
  private readonly definitions = new Map<string, JobDefinition>();

  register<P extends JobEnvelope>(definition: JobDefinition<P>): void {
    if (this.definitions.has(definition.name)) {
      throw new Error(`job "${definition.name}" is registered twice`);
    }
    this.definitions.set(definition.name, definition);
  }

  get(name: string): JobDefinition {
    const definition = this.definitions.get(name);
    if (!definition) throw new UnknownJobError(name);
    return definition;
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  names(): string[] {
    return [...this.definitions.keys()].sort();
  }
}

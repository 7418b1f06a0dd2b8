import type { CloudEvent } from './events.service';

/** A module's interest in events: exact types, or prefixes ending in `*` (`maxai.voice.*`). */
export interface EventSubscriber {
  /** Stable and unique: it names the subscriber in logs and metrics. */
  name: string;
  types: readonly string[];
  /** At least once: handlers are idempotent (a replay or a retry delivers the same event again). */
  handle(event: CloudEvent): Promise<void>;
}

export class DuplicateSubscriberError extends Error {
  constructor(name: string) {
    super(`an event subscriber named "${name}" is registered twice`);
    this.name = 'DuplicateSubscriberError';
  }
}

/**
 * Who consumes which events, until (and beside) the orchestrator. The dispatcher job reads an
 * event from the outbox and hands it to every subscriber whose pattern matches its type.
 */
export class EventSubscribers {
  private readonly subscribers = new Map<string, EventSubscriber>();

  subscribe(subscriber: EventSubscriber): () => void {
    if (this.subscribers.has(subscriber.name)) throw new DuplicateSubscriberError(subscriber.name);
    this.subscribers.set(subscriber.name, subscriber);
    return () => this.subscribers.delete(subscriber.name);
  }

  matching(type: string): EventSubscriber[] {
    return [...this.subscribers.values()].filter((s) => s.types.some((p) => typeMatches(p, type)));
  }
}

export function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

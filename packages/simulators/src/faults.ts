/** A fault injected through the control API, matched against incoming requests. */
export interface Fault {
  id: string;
  /** Vendor prefix (`twilio`, `stripe`, …) the fault applies to. */
  vendor: string;
  /** Matches request paths under the vendor's prefix, by substring; absent: every path. */
  pathIncludes?: string | undefined;
  method?: string | undefined;
  /** What to do: delay, fail with a status (and a vendor-shaped body), or both. */
  latencyMs?: number | undefined;
  status?: number | undefined;
  /** Sent as `Retry-After` (seconds) with a 429 or 503. */
  retryAfterS?: number | undefined;
  /** How many matching requests it still affects; absent: until removed. */
  remaining?: number | undefined;
}

/** Faults scripted by tests: latency, 5xx, 429 + Retry-After, expired tokens (401). */
export class FaultBook {
  private faults: Fault[] = [];
  private sequence = 0;

  add(fault: Omit<Fault, 'id'>): Fault {
    this.sequence += 1;
    const added = { ...fault, id: `fault_${this.sequence}` };
    this.faults.push(added);
    return added;
  }

  list(): Fault[] {
    return [...this.faults];
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault matching the request, spending one of its uses. */
  take(vendor: string, method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.vendor === vendor &&
        (f.method === undefined || f.method.toUpperCase() === method.toUpperCase()) &&
        (f.pathIncludes === undefined || path.includes(f.pathIncludes)),
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}

import { ghlSimulator } from './gohighlevel/ghl.simulator';
import { googleSimulator } from './google/google.simulator';
import type { VendorSimulator } from './server';

/**
 * Every vendor simulator, in one place. Each vendor's folder exports a factory; add it here.
 * (Factories, not singletons: each server gets fresh in-memory state.)
 */
export function allVendorSimulators(): VendorSimulator[] {
  return [ghlSimulator(), googleSimulator()];
}

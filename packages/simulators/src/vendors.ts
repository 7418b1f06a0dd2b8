import type { VendorSimulator } from './server';

/**
 * Every vendor simulator, in one place. Each vendor's folder exports a factory; add it here.
 * (Factories, not singletons: each server gets fresh in-memory state.)
 */
export function allVendorSimulators(): VendorSimulator[] {
  return [];
}

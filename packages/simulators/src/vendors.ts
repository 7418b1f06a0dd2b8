import { retellSimulator } from './retell';
import type { VendorSimulator } from './server';
import { twilioSimulator } from './twilio';

/**
 * Every vendor simulator, in one place. Each vendor's folder exports a factory; add it here.
 * (Factories, not singletons: each server gets fresh in-memory state.)
 */
export function allVendorSimulators(): VendorSimulator[] {
  return [twilioSimulator(), retellSimulator()];
}

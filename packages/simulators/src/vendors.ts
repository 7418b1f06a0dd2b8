import { n8nSimulator } from './n8n';
import { openRouterSimulator } from './openrouter';
import type { VendorSimulator } from './server';
import { stripeSimulator } from './stripe';

/**
 * Every vendor simulator, in one place. Each vendor's folder exports a factory; add it here.
 * (Factories, not singletons: each server gets fresh in-memory state.)
 */
export function allVendorSimulators(): VendorSimulator[] {
  return [stripeSimulator(), openRouterSimulator(), n8nSimulator()];
}

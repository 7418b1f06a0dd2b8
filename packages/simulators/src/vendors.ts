import type { VendorSimulator } from './server';
import { ghlSimulator } from './gohighlevel/ghl.simulator';
import { googleSimulator } from './google/google.simulator';
import { n8nSimulator } from './n8n';
import { openRouterSimulator } from './openrouter';
import { retellSimulator } from './retell';
import { stripeSimulator } from './stripe';
import { twilioSimulator } from './twilio';

/**
 * Every vendor simulator, in one place. Each vendor's folder exports a factory; add it here.
 * (Factories, not singletons: each server gets fresh in-memory state.)
 */
export function allVendorSimulators(): VendorSimulator[] {
  return [
    ghlSimulator(),
    googleSimulator(),
    twilioSimulator(),
    retellSimulator(),
    stripeSimulator(),
    openRouterSimulator(),
    n8nSimulator(),
  ];
}

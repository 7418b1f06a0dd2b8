import type { ProviderName } from '@maxai/core';
import type { AppConfig } from '../../platform/config/config.schema';
import type { OAuthApp } from './connections.service';

/**
 * Our OAuth client at each OAuth provider, pointed at the simulators in sandbox mode. The
 * providers' endpoint implementations live in packages/integrations/<vendor>/.
 */
export function oauthApps(_config: AppConfig): Partial<Record<ProviderName, OAuthApp>> {
  return {};
}

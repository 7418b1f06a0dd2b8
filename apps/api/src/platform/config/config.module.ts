import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './config.schema';

export const CONFIG = Symbol('CONFIG');
export type Role = 'api' | 'worker' | 'standalone';
export const ROLE = Symbol('ROLE');

/** The validated configuration and the process role, injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, role: Role): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: ROLE, useValue: role },
      ],
      exports: [CONFIG, ROLE],
    };
  }
}

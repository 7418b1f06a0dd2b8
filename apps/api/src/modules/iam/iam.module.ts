import {
  Global,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import { CONFIG } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { loadMasterKey, SecretBox } from '../../platform/crypto/secret-box';
import { DATABASE } from '../../platform/database/database.module';
import { AuditService } from '../audit/audit.service';
import { AccountRecoveryService } from './account-recovery.service';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';
import { OidcController } from './oidc.controller';
import { OidcService } from './oidc.service';
import type { EmailSender } from '@maxai/core';
import type { Logger } from 'pino';
import { SandboxEmailSender } from '../../platform/email/sandbox-email-sender';
import { SmtpEmailSender } from '../../platform/email/smtp-email-sender';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { IamRepository } from './iam.repository';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from './login-throttle';
import { MfaController } from './mfa.controller';
import { MfaRepository } from './mfa.repository';
import { MfaService } from './mfa.service';
import { PrincipalCache } from './principal-cache';
import { SessionCookies } from './session-cookies';
import { TokenService } from './token.service';
import type { Redis } from 'ioredis';
import { REDIS } from '../../platform/redis/redis.module';

export const SECRET_BOX = Symbol('SECRET_BOX');
/** The EmailSender port: the sandbox adapter (log + in-memory outbox) or SMTP (EMAIL_TRANSPORT). */
export const EMAIL_SENDER = Symbol('EMAIL_SENDER');

/** Identity and access: accounts, sessions, tokens, roles, and the guard other modules use. */
@Global()
@Module({
  controllers: [
    AuthController,
    MfaController,
    ApiKeysController,
    MembersController,
    OidcController,
  ],
  providers: [
    {
      provide: SECRET_BOX,
      inject: [CONFIG],
      useFactory: (config: AppConfig) =>
        new SecretBox(
          loadMasterKey({
            masterKey: config.MASTER_KEY,
            keyFile: config.MASTER_KEY_FILE,
            production: config.NODE_ENV === 'production',
          }),
          config.MASTER_KEY_PREVIOUS.map((k) => Buffer.from(k, 'base64')),
        ),
    },
    {
      provide: IamRepository,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => new IamRepository(database.db),
    },
    {
      provide: TokenService,
      inject: [IamRepository, SECRET_BOX, CONFIG],
      useFactory: (repository: IamRepository, box: SecretBox, config: AppConfig) =>
        new TokenService(repository, box, {
          issuer: config.PUBLIC_URL,
          accessTtlS: config.ACCESS_TOKEN_TTL_S,
        }),
    },
    {
      provide: PrincipalCache,
      inject: [REDIS, CONFIG, ROOT_LOGGER],
      useFactory: (redis: Redis | null, config: AppConfig, logger: Logger) =>
        new PrincipalCache(
          {
            ttlMs: config.PRINCIPAL_CACHE_TTL_MS,
            maxEntries: 100_000,
            channel: `${config.REDIS_KEY_PREFIX}:iam:access-changed`,
          },
          redis,
          redis?.duplicate() ?? null,
          logger.child({ component: 'principal-cache' }),
        ),
    },
    {
      provide: LoginThrottle,
      inject: [REDIS, CONFIG],
      useFactory: (redis: Redis | null, config: AppConfig) =>
        new LoginThrottle(redis, { ...DEFAULT_LOGIN_THROTTLE, keyPrefix: config.REDIS_KEY_PREFIX }),
    },
    {
      provide: AuthService,
      inject: [
        DATABASE,
        IamRepository,
        TokenService,
        AuditService,
        CONFIG,
        LoginThrottle,
        SECRET_BOX,
      ],
      useFactory: (
        database: DatabaseHandle,
        repository: IamRepository,
        tokens: TokenService,
        audit: AuditService,
        config: AppConfig,
        throttle: LoginThrottle,
        box: SecretBox,
      ) =>
        new AuthService(database.db, repository, tokens, audit, throttle, box, {
          accessTtlS: config.ACCESS_TOKEN_TTL_S,
          refreshTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
        }),
    },
    {
      provide: ApiKeysService,
      inject: [DATABASE, IamRepository, AuditService, PrincipalCache],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        audit: AuditService,
        cache: PrincipalCache,
      ) => new ApiKeysService(database.db, iam, audit, cache),
    },
    {
      provide: EMAIL_SENDER,
      inject: [ROOT_LOGGER, CONFIG],
      useFactory: (logger: Logger, config: AppConfig): EmailSender =>
        config.EMAIL_TRANSPORT === 'smtp' && config.SMTP_URL
          ? new SmtpEmailSender(config.SMTP_URL, config.EMAIL_FROM)
          : new SandboxEmailSender(logger.child({ component: 'email' })),
    },
    {
      provide: MembersService,
      inject: [DATABASE, IamRepository, AuditService, EMAIL_SENDER, CONFIG, PrincipalCache],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        audit: AuditService,
        email: EmailSender,
        config: AppConfig,
        cache: PrincipalCache,
      ) => new MembersService(database.db, iam, audit, email, config.PUBLIC_URL, cache),
    },
    {
      provide: AccountRecoveryService,
      inject: [DATABASE, IamRepository, EMAIL_SENDER, CONFIG, PrincipalCache],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        email: EmailSender,
        config: AppConfig,
        cache: PrincipalCache,
      ) => new AccountRecoveryService(database.db, iam, email, config.PUBLIC_URL, cache),
    },
    {
      provide: MfaService,
      inject: [
        DATABASE,
        IamRepository,
        SECRET_BOX,
        LoginThrottle,
        AuthService,
        CONFIG,
        PrincipalCache,
      ],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        box: SecretBox,
        throttle: LoginThrottle,
        auth: AuthService,
        config: AppConfig,
        cache: PrincipalCache,
      ) =>
        new MfaService(
          new MfaRepository(database.db),
          iam,
          box,
          throttle,
          (userId, action, meta, outcome) =>
            auth.recordAccountEvent(userId, action, meta, { outcome }),
          config.MFA_ISSUER,
          cache,
        ),
    },
    {
      provide: SessionCookies,
      inject: [SECRET_BOX, CONFIG],
      useFactory: (box: SecretBox, config: AppConfig) =>
        new SessionCookies({
          secure: config.AUTH_COOKIE_SECURE,
          accessTtlS: config.ACCESS_TOKEN_TTL_S,
          refreshTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
          csrfKey: box.deriveKey('csrf'),
        }),
    },
    {
      provide: OidcService,
      inject: [
        DATABASE,
        IamRepository,
        AuthService,
        SECRET_BOX,
        ROOT_LOGGER,
        CONFIG,
        PrincipalCache,
      ],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        auth: AuthService,
        box: SecretBox,
        logger: Logger,
        config: AppConfig,
        cache: PrincipalCache,
      ) =>
        new OidcService(
          database.db,
          iam,
          auth,
          box,
          logger.child({ component: 'oidc' }),
          {
            issuer: config.GOOGLE_OIDC_ISSUER,
            clientId: config.GOOGLE_OIDC_CLIENT_ID,
            clientSecret: config.GOOGLE_OIDC_CLIENT_SECRET,
            redirectUri: `${config.PUBLIC_URL.replace(/\/+$/, '')}/v1/auth/oidc/google/callback`,
            portalUrl: config.PORTAL_URL ?? config.PUBLIC_URL,
          },
          cache,
        ),
    },
    AuthGuard,
  ],
  exports: [
    AuthService,
    TokenService,
    AuthGuard,
    SECRET_BOX,
    IamRepository,
    ApiKeysService,
    EMAIL_SENDER,
    SessionCookies,
    PrincipalCache,
  ],
})
export class IamModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(PrincipalCache) private readonly cache: PrincipalCache,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.tokens.init();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.close();
  }
}

import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
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
  controllers: [AuthController, ApiKeysController, MembersController, OidcController],
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
      provide: AuthService,
      inject: [DATABASE, IamRepository, TokenService, AuditService, CONFIG, REDIS],
      useFactory: (
        database: DatabaseHandle,
        repository: IamRepository,
        tokens: TokenService,
        audit: AuditService,
        config: AppConfig,
        redis: Redis | null,
      ) =>
        new AuthService(
          database.db,
          repository,
          tokens,
          audit,
          new LoginThrottle(redis, {
            ...DEFAULT_LOGIN_THROTTLE,
            keyPrefix: config.REDIS_KEY_PREFIX,
          }),
          {
            accessTtlS: config.ACCESS_TOKEN_TTL_S,
            refreshTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
          },
        ),
    },
    {
      provide: ApiKeysService,
      inject: [DATABASE, IamRepository, AuditService],
      useFactory: (database: DatabaseHandle, iam: IamRepository, audit: AuditService) =>
        new ApiKeysService(database.db, iam, audit),
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
      inject: [DATABASE, IamRepository, AuditService, EMAIL_SENDER, CONFIG],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        audit: AuditService,
        email: EmailSender,
        config: AppConfig,
      ) => new MembersService(database.db, iam, audit, email, config.PUBLIC_URL),
    },
    {
      provide: AccountRecoveryService,
      inject: [DATABASE, IamRepository, EMAIL_SENDER, CONFIG],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        email: EmailSender,
        config: AppConfig,
      ) => new AccountRecoveryService(database.db, iam, email, config.PUBLIC_URL),
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
      inject: [DATABASE, IamRepository, AuthService, SECRET_BOX, ROOT_LOGGER, CONFIG],
      useFactory: (
        database: DatabaseHandle,
        iam: IamRepository,
        auth: AuthService,
        box: SecretBox,
        logger: Logger,
        config: AppConfig,
      ) =>
        new OidcService(database.db, iam, auth, box, logger.child({ component: 'oidc' }), {
          issuer: config.GOOGLE_OIDC_ISSUER,
          clientId: config.GOOGLE_OIDC_CLIENT_ID,
          clientSecret: config.GOOGLE_OIDC_CLIENT_SECRET,
          redirectUri: `${config.PUBLIC_URL.replace(/\/+$/, '')}/v1/auth/oidc/google/callback`,
          portalUrl: config.PORTAL_URL ?? config.PUBLIC_URL,
        }),
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
  ],
})
export class IamModule implements OnModuleInit {
  constructor(@Inject(TokenService) private readonly tokens: TokenService) {}

  async onModuleInit(): Promise<void> {
    await this.tokens.init();
  }
}

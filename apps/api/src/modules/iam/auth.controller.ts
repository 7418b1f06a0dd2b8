import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { ProblemError } from '../../platform/errors/problem';
import {
  AllowWithoutMfa,
  authOf,
  Authorize,
  csrfFailed,
  requestMeta,
  type AuthenticatedRequest,
} from './auth.guard';
import { AccountRecoveryService } from './account-recovery.service';
import { AuthService, type SessionCheck } from './auth.service';
import { PASSWORD_MAX_LENGTH } from './passwords';
import { ROLE_PERMISSIONS } from './permissions';
import { SessionCookies, TRANSPORT_HEADER, type SessionBody } from './session-cookies';
import type { MfaChallenge } from './mfa-challenge';
import { TokenService } from './token.service';

const email = z.email().max(254).describe('Case-insensitive').meta({ example: 'ana@example.com' });
const password = z
  .string()
  .min(1)
  .max(PASSWORD_MAX_LENGTH)
  .meta({ example: 'correct horse battery staple' });
const oneTimeToken = z
  .string()
  .min(1)
  .max(200)
  .meta({ example: 'mxt_5dG9yZXNldC10b2tlbi1leGFtcGxlLXZhbHVlLTEyMzQ' });
class SignupBody extends createZodDto(
  z.object({
    email,
    password,
    name: z.string().trim().min(1).max(200).optional().meta({ example: 'Ana Silva' }),
    tenantName: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .describe('The organization to create; you become its owner')
      .meta({ example: 'Acme Agency' }),
  }),
) {}
class LoginBody extends createZodDto(z.object({ email, password })) {}
class RefreshBody extends createZodDto(
  z.object({
    refreshToken: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('Omit when the session travels in cookies (then send x-csrf-token)')
      .meta({ example: 'mxr_8kq3N2v0cmVmcmVzaC10b2tlbi1leGFtcGxlLXZhbHVl' }),
  }),
) {}
class EmailBody extends createZodDto(z.object({ email })) {}
class TokenBody extends createZodDto(z.object({ token: oneTimeToken })) {}
class ResetBody extends createZodDto(z.object({ token: oneTimeToken, password })) {}
class SessionDto extends createZodDto(
  z.object({
    tokenType: z
      .enum(['Bearer', 'Cookie'])
      .describe('`Cookie` with x-auth-transport: cookie: the tokens are in httpOnly cookies'),
    expiresIn: z.number().int().describe('Seconds until the access token expires'),
    accessToken: z.string().optional().describe('Bearer transport only'),
    refreshToken: z
      .string()
      .optional()
      .describe('Bearer transport only. Opaque; single use, rotated on every refresh'),
    csrfToken: z
      .string()
      .optional()
      .describe('Cookie transport only: echo it in x-csrf-token on every unsafe request'),
  }),
) {}
class SignInDto extends createZodDto(
  SessionDto.schema.partial().extend({
    mfaRequired: z
      .literal(true)
      .optional()
      .describe('Present instead of a session when the account has two-factor sign-in on'),
    mfaToken: z.string().optional().describe('Send it with a code to POST /v1/auth/mfa/verify'),
    methods: z.array(z.enum(['totp', 'recovery_code'])).optional(),
  }),
) {}
/** Documents the cookie transport on every route that opens a session. */
const TransportHeader = ApiHeader({
  name: TRANSPORT_HEADER,
  required: false,
  description: '`cookie` to receive the session as httpOnly cookies (the portal)',
});
class MeDto extends createZodDto(
  z.object({
    user: z.object({
      id: z.uuid(),
      email: z.string(),
      name: z.string().nullable(),
      emailVerified: z.boolean(),
    }),
    platformRole: z.string().nullable(),
    memberships: z.array(
      z.object({
        tenantId: z.uuid(),
        role: z.string().nullable(),
        clients: z.array(z.object({ clientId: z.uuid(), role: z.string() })),
        permissions: z.array(z.string()),
      }),
    ),
  }),
) {}
class RolesDto extends createZodDto(z.record(z.string(), z.array(z.string()))) {}

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(AccountRecoveryService) private readonly recovery: AccountRecoveryService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
  ) {}

  @Post('v1/auth/signup')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an account and its organization (you become the owner)' })
  @ApiOkResponse({ type: SessionDto })
  @TransportHeader
  async signup(
    @Body(new ZodValidationPipe(SignupBody)) body: SignupBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionBody> {
    const session = await this.auth.signup(body, requestMeta(request));
    return this.cookies.respond(request, reply, session);
  }

  @Post('v1/auth/login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in with email and password (a second-factor challenge when TOTP is on)',
  })
  @ApiOkResponse({ type: SignInDto })
  @TransportHeader
  async login(
    @Body(new ZodValidationPipe(LoginBody)) body: LoginBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionBody | MfaChallenge> {
    const result = await this.auth.login(body, requestMeta(request));
    return 'mfaRequired' in result ? result : this.cookies.respond(request, reply, result);
  }

  @Post('v1/auth/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new session (the old token is spent)' })
  @ApiOkResponse({ type: SessionDto })
  @TransportHeader
  async refresh(
    @Body(new ZodValidationPipe(RefreshBody)) body: RefreshBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionBody> {
    const { token, check } = this.refreshTokenOf(body, request);
    const session = await this.auth.refresh(token, check);
    return this.cookies.respond(request, reply, session, check !== undefined);
  }

  @Post('v1/auth/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session a refresh token (body or cookie) belongs to' })
  @ApiNoContentResponse()
  async logout(
    @Body(new ZodValidationPipe(RefreshBody)) body: RefreshBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const { token, check } = this.refreshTokenOf(body, request);
    await this.auth.logout(token, requestMeta(request), check);
    if (check) this.cookies.clear(reply);
  }

  /**
   * The refresh token from the body, or else from its cookie — which a cross-site form could
   * make the browser send, so that path also needs the session's CSRF token.
   */
  private refreshTokenOf(
    body: RefreshBody,
    request: AuthenticatedRequest,
  ): { token: string; check?: SessionCheck } {
    if (body.refreshToken !== undefined) return { token: body.refreshToken };
    const token = this.cookies.refreshToken(request);
    if (!token) throw new ProblemError('unauthorized', 'A refresh token is required.');
    return {
      token,
      check: (sessionId) => {
        if (!this.cookies.csrfValid(request, sessionId)) throw csrfFailed();
      },
    };
  }

  @Post('v1/auth/password-reset/request')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Email a password reset link (the same answer whether the account exists or not)',
  })
  async requestReset(@Body(new ZodValidationPipe(EmailBody)) body: EmailBody): Promise<void> {
    await this.recovery.requestPasswordReset(body.email);
  }

  @Post('v1/auth/password-reset/confirm')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Set a new password with the emailed token; every session of the account ends',
  })
  @ApiNoContentResponse()
  async confirmReset(
    @Body(new ZodValidationPipe(ResetBody)) body: ResetBody,
    @Req() request: AuthenticatedRequest,
  ): Promise<void> {
    const userId = await this.recovery.confirmPasswordReset(body.token, body.password);
    await this.auth.recordAccountEvent(userId, 'auth.password_reset', requestMeta(request));
  }

  @Post('v1/auth/verify-email/request')
  @HttpCode(202)
  @Authorize()
  @AllowWithoutMfa()
  @ApiOperation({ summary: 'Email a link confirming your address' })
  async requestVerification(@Req() request: AuthenticatedRequest): Promise<void> {
    const { user } = authOf(request);
    if (!user) throw new ProblemError('forbidden', 'An API key has no email address.');
    await this.recovery.requestEmailVerification(user);
  }

  @Post('v1/auth/verify-email/confirm')
  @HttpCode(204)
  @ApiOperation({ summary: 'Confirm your address with the emailed token' })
  @ApiNoContentResponse()
  async confirmVerification(
    @Body(new ZodValidationPipe(TokenBody)) body: TokenBody,
  ): Promise<void> {
    await this.recovery.confirmEmailVerification(body.token);
  }

  @Get('v1/me')
  @Authorize()
  @AllowWithoutMfa()
  @ApiOperation({ summary: 'The signed-in user, memberships and effective permissions' })
  @ApiOkResponse({ type: MeDto })
  me(@Req() request: AuthenticatedRequest): MeDto {
    const { user, principal } = authOf(request);
    if (!user) throw new ProblemError('forbidden', 'An API key has no user profile.');
    return this.auth.describe(user, principal);
  }

  @Get('v1/roles')
  @ApiOperation({ summary: 'Every role and the permissions it grants' })
  @ApiOkResponse({ type: RolesDto })
  roles(): Record<string, readonly string[]> {
    return ROLE_PERMISSIONS;
  }

  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'Public keys that verify access tokens (JWKS)' })
  jwks(): { keys: unknown[] } {
    return this.tokens.jwks();
  }
}

import { Controller, Get, Inject, Query, Redirect, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createZodDto, ZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';
import { CONFIG } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { requestMeta } from './auth.guard';
import { isPortalPath, OIDC_STATE_TTL_S, OidcService } from './oidc.service';
import { SessionCookies } from './session-cookies';

/** The state cookie goes to the callback only (and /start, which replaces it). */
const STATE_COOKIE_PATH = '/v1/auth/oidc';

class StartQuery extends createZodDto(
  z.object({
    returnTo: z
      .string()
      .max(2048)
      .refine(isPortalPath, { error: 'expected a path on the portal, like /dashboard' })
      .default('/')
      .describe('Where on the portal to land once signed in'),
  }),
) {}
const param = z.string().max(4096).optional();
class CallbackQuery extends createZodDto(
  z.object({
    code: param,
    state: param,
    iss: param,
    error: param,
    error_description: param,
  }),
) {}

@ApiTags('auth')
@Controller('v1/auth/oidc/google')
export class OidcController {
  private readonly stateCookie: string;
  private readonly secure: boolean;

  constructor(
    @Inject(OidcService) private readonly oidc: OidcService,
    @Inject(SessionCookies) private readonly cookies: SessionCookies,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.secure = config.AUTH_COOKIE_SECURE;
    this.stateCookie = `${this.secure ? '__Secure-' : ''}maxai_oidc`;
  }

  @Get('start')
  @Redirect()
  @ApiOperation({
    summary: 'Sign in with Google: redirects to Google (authorization code with PKCE)',
  })
  @ApiFoundResponse({ description: "To Google's authorization endpoint; sets the state cookie" })
  async start(
    @Query(new ZodValidationPipe(StartQuery)) query: StartQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ url: string }> {
    const { location, sealedState } = await this.oidc.start(query.returnTo);
    // Lax, not Strict: it must come back on Google's cross-site redirect to the callback.
    reply.setCookie(this.stateCookie, sealedState, {
      httpOnly: true,
      secure: this.secure,
      sameSite: 'lax',
      path: STATE_COOKIE_PATH,
      maxAge: OIDC_STATE_TTL_S,
    });
    return { url: location };
  }

  @Get('callback')
  @Redirect()
  @ApiOperation({
    summary: 'Where Google returns: signs in (session cookies) and redirects to the portal',
  })
  @ApiFoundResponse({ description: 'To the portal, signed in (session cookies set)' })
  async callback(
    @Query(new ZodValidationPipe(CallbackQuery)) query: CallbackQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ url: string }> {
    const sealedState = request.cookies[this.stateCookie];
    // Single use, whatever the outcome.
    reply.clearCookie(this.stateCookie, { path: STATE_COOKIE_PATH, secure: this.secure });
    const { session, location } = await this.oidc.finish(sealedState, query, requestMeta(request));
    if (session) this.cookies.set(reply, session);
    return { url: location };
  }
}

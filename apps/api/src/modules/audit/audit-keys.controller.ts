import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { AuditEvidenceService } from './audit-evidence.service';

class AuditKeysDto extends createZodDto(
  z.object({
    keys: z.array(
      z
        .object({
          kty: z.literal('OKP'),
          crv: z.literal('Ed25519'),
          x: z.string(),
          kid: z.string(),
          alg: z.literal('EdDSA'),
          use: z.literal('sig'),
        })
        .loose(),
    ),
  }),
) {}

/** The public halves of the audit keys: what verifies a checkpoint, here or offline. */
@ApiTags('audit')
@Controller()
export class AuditKeysController {
  constructor(@Inject(AuditEvidenceService) private readonly evidence: AuditEvidenceService) {}

  @Get('.well-known/audit-keys.json')
  @ApiOperation({ summary: 'Public keys that verify signed audit checkpoints (JWKS, Ed25519)' })
  @ApiOkResponse({ type: AuditKeysDto })
  jwks(): Promise<{ keys: unknown[] }> {
    return this.evidence.jwks();
  }
}

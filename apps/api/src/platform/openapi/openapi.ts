import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { PROBLEM_BASE } from '../errors/problem';

/** The OpenAPI 3.1 description, generated from the controllers and their zod DTOs. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('MaxAI Platform API')
    .setDescription(
      `Multi-tenant platform for AI employees. Errors are RFC 9457 problem+json documents whose ` +
        `\`type\` is a stable URI under ${PROBLEM_BASE}. Every response carries x-correlation-id.`,
    )
    .setVersion('0.1.0')
    .addSecurity('internalToken', { type: 'apiKey', in: 'header', name: 'x-internal-token' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  return cleanupOpenApiDoc(document, { version: '3.1' });
}

/** Deterministic JSON for the committed `openapi.json`. */
export function serializeOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

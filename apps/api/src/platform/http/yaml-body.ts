import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { ProblemError } from '../errors/problem';

/** The media types a YAML request body may arrive with. */
export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/**
 * Lets routes accept YAML bodies (a prompt library kept in git, say) exactly like JSON: parsed
 * into plain data before validation. YAML's safe core schema only (no custom tags, nothing
 * executed), aliases capped against "billion laughs", a `__proto__` key stays an own key.
 */
export function registerYamlBodyParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(YAML_MEDIA_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parse(String(body), { schema: 'core', maxAliasCount: 100, uniqueKeys: true }));
    } catch (error) {
      const [reason] = String(error)
        .replace(/^\w*Error: /, '')
        .split('\n');
      done(
        new ProblemError('malformed-request', `The body is not valid YAML: ${reason}`),
        undefined,
      );
    }
  });
}

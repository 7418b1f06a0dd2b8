import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { problemDocument } from './problem';
import { toProblem } from './to-problem';

/**
 * Answers any error as RFC 9457 problem+json. Unexpected errors are logged with their stack and
 * answered with a generic 500: nothing internal ever reaches the client.
 */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  logger: Logger,
): FastifyReply {
  const problem = toProblem(error);
  if (problem.unexpected) {
    logger.error(
      { err: error, correlationId: request.id },
      'unhandled error while serving a request',
    );
  }
  const body = problemDocument(problem.problemType, {
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    instance: request.url.split('?')[0],
    correlationId: request.id,
    ...problem.extensions,
  });
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value);
  return reply.code(body.status).type('application/problem+json').send(body);
}

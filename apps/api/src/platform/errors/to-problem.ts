import { HttpException } from '@nestjs/common';
import { ZodValidationException } from 'nestjs-zod';
import { ZodError } from 'zod';
import { type FieldError, ProblemError, type ProblemType } from './problem';

export interface ResolvedProblem {
  problemType: ProblemType;
  detail?: string;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** True when the error is a bug, not the client's fault: log it with its stack. */
  unexpected: boolean;
}

const STATUS_TO_TYPE: Record<number, ProblemType> = {
  400: 'malformed-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  408: 'request-timeout',
  409: 'conflict',
  410: 'gone',
  412: 'precondition-failed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable-content',
  429: 'rate-limited',
  503: 'service-unavailable',
};

/** Fastify's own error codes for requests it refuses before a handler runs. */
const FASTIFY_CODES: Record<string, ProblemType> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-request',
};

export function fieldErrors(error: ZodError, location?: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: [location, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Maps anything thrown while serving a request to the problem it should be answered with. */
export function toProblem(error: unknown): ResolvedProblem {
  if (error instanceof ProblemError) {
    return {
      problemType: error.problemType,
      detail: error.message,
      extensions: error.extensions,
      headers: error.headers,
      unexpected: false,
    };
  }
  if (error instanceof ZodValidationException) {
    const zodError = error.getZodError();
    return {
      problemType: 'validation-error',
      detail: 'One or more fields are invalid.',
      extensions: { errors: zodError instanceof ZodError ? fieldErrors(zodError) : [] },
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const problemType = STATUS_TO_TYPE[status];
    if (problemType) {
      return { problemType, detail: httpExceptionDetail(error), unexpected: false };
    }
    return { problemType: 'internal-error', unexpected: true };
  }
  if (error instanceof SyntaxError) {
    return {
      problemType: 'malformed-request',
      detail: 'The body is not valid JSON.',
      unexpected: false,
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FASTIFY_CODES[code]) {
    return {
      problemType: FASTIFY_CODES[code],
      detail: (error as Error).message,
      unexpected: false,
    };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && STATUS_TO_TYPE[statusCode]) {
    return {
      problemType: STATUS_TO_TYPE[statusCode],
      detail: (error as Error).message,
      unexpected: false,
    };
  }
  return { problemType: 'internal-error', unexpected: true };
}

function httpExceptionDetail(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return error.message;
}

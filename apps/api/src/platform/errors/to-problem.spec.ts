import {
  BadRequestException,
  ConflictException,
  HttpException,
  HttpStatus,
  NotFoundException,
} from '@nestjs/common';
import { ZodValidationException } from 'nestjs-zod';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ProblemError } from './problem';
import { fieldErrors, toProblem } from './to-problem';

function zodErrorOf(schema: z.ZodType, value: unknown): z.ZodError {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected the value not to validate');
  return result.error;
}

const withCode = (message: string, code: unknown): Error =>
  Object.assign(new Error(message), { code });
const withStatus = (message: string, statusCode: unknown): Error =>
  Object.assign(new Error(message), { statusCode });

describe('fieldErrors', () => {
  const schema = z.object({ email: z.email(), tags: z.array(z.string()) });

  it('joins the location and the issue path with dots', () => {
    const errors = fieldErrors(zodErrorOf(schema, { email: 'nope', tags: ['ok', 7] }), 'body');
    expect(errors).toHaveLength(2);
    expect(errors.map((e) => e.field)).toEqual(['body.email', 'body.tags.1']);
    for (const error of errors) expect(error.message).toEqual(expect.any(String));
  });

  it('omits the location when none is given', () => {
    const errors = fieldErrors(zodErrorOf(schema, { email: 'a@b.co', tags: 'x' }));
    expect(errors.map((e) => e.field)).toEqual(['tags']);
  });

  it('names a root-level issue "(root)" without a location', () => {
    const errors = fieldErrors(zodErrorOf(z.string({ error: 'expected text' }), 42));
    expect(errors).toEqual([{ field: '(root)', message: 'expected text' }]);
  });

  it('names a root-level issue after its location when one is given', () => {
    const errors = fieldErrors(zodErrorOf(z.string(), 42), 'query');
    expect(errors.map((e) => e.field)).toEqual(['query']);
  });
});

describe('toProblem', () => {
  describe('ProblemError', () => {
    it('keeps its type, detail, extensions and headers', () => {
      const error = new ProblemError(
        'rate-limited',
        'Slow down.',
        { retryAfterSeconds: 30 },
        { 'retry-after': '30' },
      );
      expect(toProblem(error)).toEqual({
        problemType: 'rate-limited',
        detail: 'Slow down.',
        extensions: { retryAfterSeconds: 30 },
        headers: { 'retry-after': '30' },
        unexpected: false,
      });
    });

    it('uses the type title as detail and empty extensions/headers by default', () => {
      expect(toProblem(new ProblemError('not-found'))).toEqual({
        problemType: 'not-found',
        detail: 'Resource not found',
        extensions: {},
        headers: {},
        unexpected: false,
      });
    });
  });

  describe('ZodValidationException', () => {
    it('becomes a validation error listing each invalid field', () => {
      const zodError = zodErrorOf(z.object({ limit: z.number().max(10) }), { limit: 50 });
      const problem = toProblem(new ZodValidationException(zodError));
      expect(problem.problemType).toBe('validation-error');
      expect(problem.detail).toBe('One or more fields are invalid.');
      expect(problem.unexpected).toBe(false);
      expect(problem.extensions).toEqual({
        errors: [{ field: 'limit', message: zodError.issues[0]!.message }],
      });
    });

    it('lists no fields when the wrapped error is not a ZodError', () => {
      const problem = toProblem(new ZodValidationException(new Error('not zod')));
      expect(problem).toEqual({
        problemType: 'validation-error',
        detail: 'One or more fields are invalid.',
        extensions: { errors: [] },
        unexpected: false,
      });
    });
  });

  describe('HttpException', () => {
    it('maps a known status and uses a string response as detail', () => {
      expect(toProblem(new HttpException('No such tenant.', HttpStatus.NOT_FOUND))).toEqual({
        problemType: 'not-found',
        detail: 'No such tenant.',
        unexpected: false,
      });
    });

    it('uses the message of an object response', () => {
      expect(toProblem(new ConflictException('Already booked.'))).toEqual({
        problemType: 'conflict',
        detail: 'Already booked.',
        unexpected: false,
      });
    });

    it('joins an array of messages', () => {
      expect(toProblem(new BadRequestException(['a is wrong', 'b is wrong']))).toEqual({
        problemType: 'malformed-request',
        detail: 'a is wrong; b is wrong',
        unexpected: false,
      });
    });

    it("falls back to the exception's own message when the response has no message", () => {
      const error = new HttpException({ reason: 'gone' }, HttpStatus.NOT_FOUND);
      const problem = toProblem(error);
      expect(problem.problemType).toBe('not-found');
      expect(problem.detail).toBe(error.message);
      expect(problem.detail).not.toContain('gone');
    });

    it.each([
      [HttpStatus.UNAUTHORIZED, 'unauthorized'],
      [HttpStatus.FORBIDDEN, 'forbidden'],
      [HttpStatus.METHOD_NOT_ALLOWED, 'method-not-allowed'],
      [HttpStatus.PAYLOAD_TOO_LARGE, 'payload-too-large'],
      [HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported-media-type'],
      [HttpStatus.TOO_MANY_REQUESTS, 'rate-limited'],
      [HttpStatus.SERVICE_UNAVAILABLE, 'service-unavailable'],
    ] as const)('maps status %i to %s', (status, problemType) => {
      expect(toProblem(new HttpException('x', status)).problemType).toBe(problemType);
    });

    it('treats an unmapped status as an unexpected internal error, with no detail', () => {
      expect(toProblem(new HttpException('teapot internals', HttpStatus.I_AM_A_TEAPOT))).toEqual({
        problemType: 'internal-error',
        unexpected: true,
      });
      expect(toProblem(new HttpException('boom', HttpStatus.INTERNAL_SERVER_ERROR))).toEqual({
        problemType: 'internal-error',
        unexpected: true,
      });
    });

    it('still recognises subclasses such as NotFoundException without a message', () => {
      expect(toProblem(new NotFoundException())).toEqual({
        problemType: 'not-found',
        detail: 'Not Found',
        unexpected: false,
      });
    });
  });

  it('treats a SyntaxError as a malformed JSON body', () => {
    expect(toProblem(new SyntaxError('Unexpected token } in JSON'))).toEqual({
      problemType: 'malformed-request',
      detail: 'The body is not valid JSON.',
      unexpected: false,
    });
  });

  describe("Fastify's error codes", () => {
    it.each([
      ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupported-media-type'],
      ['FST_ERR_CTP_BODY_TOO_LARGE', 'payload-too-large'],
      ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'malformed-request'],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 'malformed-request'],
      ['FST_ERR_CTP_INVALID_JSON_BODY', 'malformed-request'],
    ] as const)('maps %s to %s with its message as detail', (code, problemType) => {
      expect(toProblem(withCode('refused by fastify', code))).toEqual({
        problemType,
        detail: 'refused by fastify',
        unexpected: false,
      });
    });

    it('ignores an unknown code or a non-string code', () => {
      expect(toProblem(withCode('db down', 'ECONNREFUSED'))).toEqual({
        problemType: 'internal-error',
        unexpected: true,
      });
      expect(toProblem(withCode('numeric', 42))).toEqual({
        problemType: 'internal-error',
        unexpected: true,
      });
    });

    it('prefers the code over a statusCode', () => {
      const error = Object.assign(withCode('too big', 'FST_ERR_CTP_BODY_TOO_LARGE'), {
        statusCode: 400,
      });
      expect(toProblem(error).problemType).toBe('payload-too-large');
    });
  });

  describe('errors carrying a statusCode', () => {
    it('maps a known statusCode with its message as detail', () => {
      expect(toProblem(withStatus('route not found', 404))).toEqual({
        problemType: 'not-found',
        detail: 'route not found',
        unexpected: false,
      });
    });

    it('falls back to an unexpected internal error for an unknown or non-numeric statusCode', () => {
      expect(toProblem(withStatus('weird', 418))).toEqual({
        problemType: 'internal-error',
        unexpected: true,
      });
      expect(toProblem(withStatus('stringly', '404'))).toEqual({
        problemType: 'internal-error',
        unexpected: true,
      });
    });
  });

  it.each([
    ['a plain Error', new Error('secret internals')],
    ['a TypeError', new TypeError('x is undefined')],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'boom'],
    ['a number', 42],
    ['an empty object', {}],
  ])('treats %s as an unexpected internal error', (_label, thrown) => {
    expect(toProblem(thrown)).toEqual({ problemType: 'internal-error', unexpected: true });
  });
});

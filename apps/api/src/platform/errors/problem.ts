/**
 * RFC 9457 problem details. `type` is a stable URI per kind of problem: clients branch on it,
 * never on `title` or `detail`, which are for people.
 */
export const PROBLEM_BASE = 'https://docs.maxai.dev/problems/';

export const PROBLEM_TYPES = {
  'validation-error': { status: 400, title: 'Your request parameters did not validate' },
  'malformed-request': { status: 400, title: 'The request body could not be parsed' },
  'oidc-failed': { status: 400, title: 'Signing in with the identity provider did not succeed' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  'webhook-signature-invalid': {
    status: 401,
    title: 'The webhook signature is missing, invalid or outside its time window',
  },
  forbidden: { status: 403, title: 'You may not perform this action' },
  'csrf-failed': { status: 403, title: 'The CSRF token is missing or does not match the session' },
  'mfa-required': { status: 403, title: 'A second factor is required' },
  'not-found': { status: 404, title: 'Resource not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'No acceptable representation' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  gone: { status: 410, title: 'The resource is gone' },
  'precondition-failed': { status: 412, title: 'A precondition failed' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'unprocessable-content': {
    status: 422,
    title: 'The request is well-formed but cannot be processed',
  },
  'template-syntax': {
    status: 422,
    title: 'The template does not parse or reads variables it does not declare',
  },
  'prompt-variables-invalid': {
    status: 422,
    title: "The variables do not fit the prompt version's schema",
  },
  'prompt-render-failed': { status: 422, title: 'The prompt could not be rendered' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export interface FieldError {
  /** JSON-pointer-like path of the offending field, e.g. `body.email` or `query.limit`. */
  field: string;
  message: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  correlationId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Throw from any layer to answer with a specific problem. */
export class ProblemError extends Error {
  readonly status: number;

  constructor(
    readonly problemType: ProblemType,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? PROBLEM_TYPES[problemType].title);
    this.name = 'ProblemError';
    this.status = PROBLEM_TYPES[problemType].status;
  }
}

export function problemDocument(
  problemType: ProblemType,
  fields: { detail?: string; instance?: string; correlationId?: string } & Record<string, unknown>,
): ProblemDocument {
  const { status, title } = PROBLEM_TYPES[problemType];
  return { type: `${PROBLEM_BASE}${problemType}`, title, status, ...fields };
}

import type { SecretBox } from '../../platform/crypto/secret-box';
import { ProblemError } from '../../platform/errors/problem';

/** What a first factor answers when the account has a second one: a short-lived challenge. */
export interface MfaChallenge {
  mfaRequired: true;
  /** Sealed (AES-256-GCM) proof that the first factor passed; spend it at /v1/auth/mfa/verify. */
  mfaToken: string;
  expiresIn: number;
  methods: ('totp' | 'recovery_code')[];
}

export type SignInMethod = 'password' | 'oidc';

const CONTEXT = 'mfa-challenge';
export const MFA_CHALLENGE_TTL_S = 300;

export function sealChallenge(box: SecretBox, userId: string, method: SignInMethod): MfaChallenge {
  const payload = { u: userId, m: method, exp: Date.now() + MFA_CHALLENGE_TTL_S * 1000 };
  return {
    mfaRequired: true,
    mfaToken: box.seal(JSON.stringify(payload), CONTEXT),
    expiresIn: MFA_CHALLENGE_TTL_S,
    methods: ['totp', 'recovery_code'],
  };
}

/** The user and first-factor method a challenge stands for; 401 when forged or expired. */
export function openChallenge(
  box: SecretBox,
  token: string,
): { userId: string; method: SignInMethod } {
  let payload: { u?: unknown; m?: unknown; exp?: unknown };
  try {
    payload = JSON.parse(box.open(token, CONTEXT)) as typeof payload;
  } catch {
    throw invalidChallenge();
  }
  if (
    typeof payload.u !== 'string' ||
    (payload.m !== 'password' && payload.m !== 'oidc') ||
    typeof payload.exp !== 'number' ||
    payload.exp <= Date.now()
  ) {
    throw invalidChallenge();
  }
  return { userId: payload.u, method: payload.m };
}

function invalidChallenge(): ProblemError {
  return new ProblemError('unauthorized', 'The sign-in challenge is not valid or has expired.');
}

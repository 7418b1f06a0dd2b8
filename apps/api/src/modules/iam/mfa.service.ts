import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { SecretBox } from '../../platform/crypto/secret-box';
import { ProblemError } from '../../platform/errors/problem';
import type { RequestMeta } from './auth.service';
import type { IamRepository, UserRow } from './iam.repository';
import type { LoginThrottle } from './login-throttle';
import { openChallenge, type SignInMethod } from './mfa-challenge';
import type { MfaRepository } from './mfa.repository';
import type { PrincipalCache } from './principal-cache';

/** A second factor as presented: a current TOTP code or one of the recovery codes. */
export interface MfaProof {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

type AccountEvent = (
  userId: string,
  action: string,
  meta: RequestMeta,
  outcome?: 'success' | 'failure',
) => Promise<void>;

const PERIOD_S = 30;
const RECOVERY_CODES = 10;
const INVALID_PROOF = 'The code is not valid.';

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step of clock drift). The secret is
 * sealed under the master key; a code is accepted at most once (the last accepted time step is
 * kept); recovery codes are single use and stored hashed. Wrong codes count towards the same
 * doubling lockout as passwords, per account.
 */
export class MfaService {
  constructor(
    private readonly repository: MfaRepository,
    private readonly iam: IamRepository,
    private readonly box: SecretBox,
    private readonly throttle: LoginThrottle,
    private readonly recordAccountEvent: AccountEvent,
    private readonly issuer: string,
    private readonly cache: PrincipalCache,
  ) {}

  /** Starts (or restarts) enrolment: a new secret, shown once, not active until confirmed. */
  async enrol(user: UserRow): Promise<TotpEnrolment> {
    if (user.totpEnabledAt) {
      throw new ProblemError('conflict', 'Two-factor sign-in is already on. Disable it first.');
    }
    const secret = new Secret({ size: 20 });
    await this.repository.setPendingSecret(user.id, this.box.seal(secret.base32, context(user)));
    await this.cache.invalidate({ users: [user.id] });
    const otpauthUri = this.totp(user, secret).toString();
    return {
      secret: secret.base32,
      otpauthUri,
      qrSvg: await QRCode.toString(otpauthUri, { type: 'svg' }),
    };
  }

  /** Confirms enrolment with a first code; answers the recovery codes, shown this once. */
  async confirm(user: UserRow, code: string, meta: RequestMeta): Promise<string[]> {
    if (user.totpEnabledAt) {
      throw new ProblemError('conflict', 'Two-factor sign-in is already on.');
    }
    if (!user.totpSecretEncrypted) {
      throw new ProblemError('conflict', 'Start enrolment first (POST /v1/auth/mfa/totp/enrol).');
    }
    if (!(await this.codeValid(user, code))) {
      throw new ProblemError('validation-error', INVALID_PROOF, {
        errors: [{ field: 'body.code', message: 'does not match the authenticator' }],
      });
    }
    const codes = newRecoveryCodes();
    await this.repository.enable(user.id, codes.map(hashRecoveryCode));
    await this.cache.invalidate({ users: [user.id] });
    await this.recordAccountEvent(user.id, 'auth.mfa_enabled', meta);
    return codes;
  }

  async disable(user: UserRow, proof: MfaProof, meta: RequestMeta): Promise<void> {
    this.assertEnabled(user);
    if (user.platformRole) {
      throw new ProblemError('forbidden', 'Platform staff must keep two-factor sign-in on.');
    }
    await this.assertProof(user, proof, meta);
    await this.repository.disable(user.id);
    await this.cache.invalidate({ users: [user.id] });
    await this.recordAccountEvent(user.id, 'auth.mfa_disabled', meta);
  }

  async regenerateRecoveryCodes(
    user: UserRow,
    proof: MfaProof,
    meta: RequestMeta,
  ): Promise<string[]> {
    this.assertEnabled(user);
    await this.assertProof(user, proof, meta);
    const codes = newRecoveryCodes();
    await this.repository.replaceRecoveryCodes(user.id, codes.map(hashRecoveryCode));
    await this.recordAccountEvent(user.id, 'auth.recovery_codes_regenerated', meta);
    return codes;
  }

  /** Completes a sign-in challenge: the user and first-factor method once the proof holds. */
  async verifyChallenge(
    token: string,
    proof: MfaProof,
    meta: RequestMeta,
  ): Promise<{ user: UserRow; method: SignInMethod }> {
    const { userId, method } = openChallenge(this.box, token);
    const user = await this.iam.findUserById(userId);
    if (user?.status !== 'active' || !user.totpEnabledAt) {
      throw new ProblemError('unauthorized', 'The sign-in challenge is not valid or has expired.');
    }
    await this.assertProof(user, proof, meta);
    return { user, method };
  }

  remainingRecoveryCodes(userId: string): Promise<number> {
    return this.repository.unusedRecoveryCodes(userId);
  }

  private assertEnabled(user: UserRow): void {
    if (!user.totpEnabledAt) throw new ProblemError('conflict', 'Two-factor sign-in is not on.');
  }

  /** Checks a proof under the per-account lockout; failures are audited. */
  private async assertProof(user: UserRow, proof: MfaProof, meta: RequestMeta): Promise<void> {
    const key = `mfa:${user.id}`;
    const ip = meta.ip ?? 'unknown';
    await this.throttle.assertOpen(key, ip);
    const valid = proof.code
      ? await this.codeValid(user, proof.code)
      : proof.recoveryCode !== undefined &&
        (await this.repository.spendRecoveryCode(user.id, hashRecoveryCode(proof.recoveryCode)));
    if (!valid) {
      await this.throttle.failed(key, ip);
      await this.recordAccountEvent(user.id, 'auth.mfa_failed', meta, 'failure');
      throw new ProblemError('unauthorized', INVALID_PROOF);
    }
    await this.throttle.succeeded(key);
  }

  private async codeValid(user: UserRow, code: string): Promise<boolean> {
    if (!user.totpSecretEncrypted) return false;
    const secret = Secret.fromBase32(this.box.open(user.totpSecretEncrypted, context(user)));
    const now = Date.now();
    const delta = this.totp(user, secret).validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD_S) + delta;
    return this.repository.acceptStep(user.id, step);
  }

  private totp(user: UserRow, secret: Secret): TOTP {
    return new TOTP({
      issuer: this.issuer,
      label: user.email,
      secret,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD_S,
    });
  }
}

const context = (user: UserRow) => `totp:${user.id}`;

/** Ten codes like `k3f9-x2qa-7m`: 50 bits each, lower-case base32 without look-alikes. */
function newRecoveryCodes(): string[] {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  return Array.from({ length: RECOVERY_CODES }, () => {
    const chars = Array.from({ length: 10 }, () => alphabet[randomInt(alphabet.length)]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
  });
}

/** Codes are typed by hand: case, spaces and dashes do not matter. */
export function hashRecoveryCode(code: string): string {
  const normalized = code.toLowerCase().replace(/[\s-]/g, '');
  return createHash('sha256').update(normalized).digest('hex');
}

import argon2 from 'argon2';

/**
 * A short list of the most common passwords (from public breach corpora); the policy refuses
 * them whatever their case. Length is the main defence; this stops the worst choices.
 */
const COMMON_PASSWORDS = new Set(
  `123456 123456789 12345678 password qwerty123 qwerty 1234567890 1234567 111111 123123
  abc123 password1 iloveyou 000000 qwertyuiop 123321 654321 666666 987654321 1q2w3e4r5t
  passw0rd password123 letmein welcome monkey dragon football baseball sunshine princess
  admin123 welcome1 trustno1 superman batman master 1qaz2wsx zaq12wsx qwerty1234
  changeme changeme123 p@ssw0rd p@ssword administrator whatever starwars hello123 secret123
  michael shadow charlie jessica 1q2w3e4r asdfghjkl asdfgh zxcvbnm zxcvbnm123 loveme
  freedom computer internet corvette mustang access123 summer2024 winter2024 spring2024
  autumn2024 password2024 password2025 welcome2024 welcome2025 qwerty12345 1234qwer
  11111111 00000000 12341234 88888888 abcd1234 aa123456 asd123 q1w2e3r4 iloveyou1`
    .split(/\s+/)
    .filter(Boolean),
);

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/** The policy's objections to a password, empty when it is acceptable. */
export function passwordProblems(password: string, email: string): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH)
    problems.push(`must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH)
    problems.push(`must be at most ${PASSWORD_MAX_LENGTH} characters`);
  if (COMMON_PASSWORDS.has(password.toLowerCase()))
    problems.push('is one of the most common passwords');
  const local = email.toLowerCase().replace(/@.*$/, '');
  if (local.length >= 4 && password.toLowerCase().includes(local))
    problems.push('must not contain your email name');
  return problems;
}

/** argon2id with the library's defaults (64 MiB, 3 passes, parallelism 4; OWASP-compliant). */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

/** A hash verified when the account does not exist, so timing does not reveal which emails do. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(
  hash: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (!hash) {
    decoyHash ??= hashPassword('decoy-password-for-timing');
    await argon2.verify(await decoyHash, password);
    return false;
  }
  return argon2.verify(hash, password);
}

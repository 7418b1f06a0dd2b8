import { PERMISSIONS, ROLE_PERMISSIONS, type Role } from './permissions';

/** The role → permission table as Markdown, as published in the README (a test keeps it true). */
export function roleTableMarkdown(): string {
  const roles = Object.keys(ROLE_PERMISSIONS) as Role[];
  const header = `| permission | ${roles.join(' | ')} |`;
  const rule = `| --- | ${roles.map(() => ':-:').join(' | ')} |`;
  const rows = PERMISSIONS.map(
    (p) =>
      `| \`${p}\` | ${roles.map((r) => (ROLE_PERMISSIONS[r].includes(p) ? '✓' : '')).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

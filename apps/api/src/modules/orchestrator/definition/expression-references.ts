import { compileExpression } from './expressions';

/** A root of the scope an expression reads (`steps`, `vars`, `event`, `run`) and what under it. */
export interface ScopeReference {
  root: string;
  /** The name after the root (`steps.<member>`), when it is a plain name. */
  member: string | undefined;
  position: number;
}

interface AstNode {
  type?: unknown;
  value?: unknown;
  position?: unknown;
  steps?: unknown;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null;
}

function nameOf(node: unknown, type: 'name' | 'variable'): string | undefined {
  return isNode(node) && node.type === type && typeof node.value === 'string'
    ? node.value
    : undefined;
}

/**
 * The scope roots an expression's paths start from: `steps.x…`, `$steps.x…`, `$.steps.x…` and
 * `$$.steps.x…` alike. Conservative: a path anywhere in the expression counts, even inside a predicate where
 * `steps` could be a field of the current item; computed access (`$lookup($steps, id)`) is not
 * seen. The expression must compile.
 */
export function scopeReferences(source: string): ScopeReference[] {
  const found: ScopeReference[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isNode(node)) return;
    if (node.type === 'path' && Array.isArray(node.steps)) {
      const path: unknown[] = node.steps;
      const head = nameOf(path[0], 'variable');
      // `$$` (the root) and `$` (the context, the root at top level) parse as variables '$', ''.
      const rooted = head === '$' || head === '';
      const first = path[rooted ? 1 : 0] as AstNode;
      const root = rooted ? nameOf(first, 'name') : (nameOf(first, 'name') ?? head);
      if (root !== undefined) {
        // Name and variable nodes always carry their position.
        const position = first.position as number;
        found.push({ root, member: nameOf(path[rooted ? 2 : 1], 'name'), position });
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(compileExpression(source).ast());
  return found;
}

/** The step ids an expression reads as `steps.<id>`. */
export function stepReferences(source: string): ScopeReference[] {
  return scopeReferences(source).filter((r) => r.root === 'steps' && r.member !== undefined);
}

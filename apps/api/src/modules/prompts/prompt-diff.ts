import { isDeepStrictEqual } from 'node:util';

export interface LineOp {
  op: 'equal' | 'add' | 'remove';
  line: string;
}

/**
 * Beyond this many differing lines the diff is "replace everything": it bounds time (O(N·D)) and
 * the trace kept for the way back (O(D²) integers, 4 MB at most).
 */
const MAX_EDIT_DISTANCE = 1000;
const CONTEXT = 3;

/**
 * The shortest line edit script from `a` to `b` (Myers' O(ND) algorithm): the lines kept, removed
 * and added, in order. Past MAX_EDIT_DISTANCE it answers remove-all then add-all.
 */
export function diffLines(a: readonly string[], b: readonly string[]): LineOp[] {
  // Common prefix and suffix cost nothing and shrink the search.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const head = a.slice(0, start).map((line): LineOp => ({ op: 'equal', line }));
  const tail = a.slice(endA).map((line): LineOp => ({ op: 'equal', line }));
  return [...head, ...myers(a.slice(start, endA), b.slice(start, endB)), ...tail];
}

function myers(a: readonly string[], b: readonly string[]): LineOp[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // Before step d: the furthest x of each diagonal k ∈ [-d-1, d+1], kept for the way back.
  const trace: Int32Array[] = [];
  // Ends by d = n + m at the latest (all removed, all added).
  for (let d = 0; ; d += 1) {
    if (d > MAX_EDIT_DISTANCE) return replaceAll(a, b);
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && at(v, offset + k - 1) < at(v, offset + k + 1));
      let x = down ? at(v, offset + k + 1) : at(v, offset + k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, d);
    }
  }
}

function backtrack(
  trace: Int32Array[],
  a: readonly string[],
  b: readonly string[],
  depth: number,
): LineOp[] {
  const ops: LineOp[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = depth; d > 0; d -= 1) {
    const snapshot = at(trace, d);
    // The snapshot starts at diagonal -d-1.
    const furthest = (k: number) => at(snapshot, k + d + 1);
    const k = x - y;
    const down = k === -d || (k !== d && furthest(k - 1) < furthest(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = furthest(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x -= 1;
      y -= 1;
      ops.push({ op: 'equal', line: at(a, x) });
    }
    if (down) {
      y -= 1;
      ops.push({ op: 'add', line: at(b, y) });
    } else {
      x -= 1;
      ops.push({ op: 'remove', line: at(a, x) });
    }
  }
  // Step 0 is a diagonal from the origin: what is left is common.
  for (; x > 0; x -= 1) ops.push({ op: 'equal', line: at(a, x - 1) });
  return ops.reverse();
}

/** Reads an index the algorithm keeps in range (the type system cannot tell). */
function at<T>(items: ArrayLike<T>, index: number): T {
  return items[index] as T;
}

function replaceAll(a: readonly string[], b: readonly string[]): LineOp[] {
  return [
    ...a.map((line): LineOp => ({ op: 'remove', line })),
    ...b.map((line): LineOp => ({ op: 'add', line })),
  ];
}

/** A unified diff (`diff -u` style, three lines of context) of two texts; empty when equal. */
export function unifiedDiff(from: string, to: string, fromName: string, toName: string): string {
  const ops = diffLines(from.split('\n'), to.split('\n'));
  if (ops.every((o) => o.op === 'equal')) return '';
  const hunks: string[] = [];
  let i = 0;
  // Line numbers (1-based) in each text at ops[i].
  const lineA: number[] = [];
  const lineB: number[] = [];
  let la = 1;
  let lb = 1;
  for (const o of ops) {
    lineA.push(la);
    lineB.push(lb);
    if (o.op !== 'add') la += 1;
    if (o.op !== 'remove') lb += 1;
  }
  while (i < ops.length) {
    if (at(ops, i).op === 'equal') {
      i += 1;
      continue;
    }
    const begin = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend while changes are closer than two contexts apart.
    for (let j = i; j < ops.length; j += 1) {
      if (at(ops, j).op !== 'equal') end = j;
      else if (j - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(ops.length, end + CONTEXT + 1);
    const slice = ops.slice(begin, stop);
    const countA = slice.filter((o) => o.op !== 'add').length;
    const countB = slice.filter((o) => o.op !== 'remove').length;
    // Both ranges hold a line at least: a text split on newlines has one, and context is kept.
    const startA = at(lineA, begin);
    const startB = at(lineB, begin);
    hunks.push(
      `@@ -${startA},${countA} +${startB},${countB} @@`,
      ...slice.map((o) => `${o.op === 'equal' ? ' ' : o.op === 'add' ? '+' : '-'}${o.line}`),
    );
    i = stop;
  }
  return [`--- ${fromName}`, `+++ ${toName}`, ...hunks].join('\n') + '\n';
}

export interface FieldChange {
  /** Dotted path of the changed value, e.g. `modelSettings.temperature`. */
  field: string;
  from: unknown;
  to: unknown;
}

/** The leaves that differ between two JSON values (objects compared key by key). */
export function jsonChanges(from: unknown, to: unknown, field: string): FieldChange[] {
  if (isDeepStrictEqual(from, to)) return [];
  if (isPlainObject(from) && isPlainObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.flatMap((k) => jsonChanges(from[k], to[k], `${field}.${k}`));
  }
  return [{ field, from: from ?? null, to: to ?? null }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

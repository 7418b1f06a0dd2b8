const SPACE = /[ \t\n\r]*/y;
const SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
// eslint-disable-next-line no-control-regex -- raw control characters are what JSON forbids in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

/**
 * The offset of the first JSON syntax error in `text`, or -1 when it is valid JSON. V8's
 * messages name the offset only for some errors; this names it for all. Iterative, so that
 * deeply nested input cannot overflow the stack.
 */
export function jsonErrorOffset(text: string): number {
  let at = 0;
  const take = (pattern: RegExp): boolean => {
    pattern.lastIndex = at;
    if (!pattern.test(text)) return false;
    at = pattern.lastIndex;
    return true;
  };
  const space = () => take(SPACE);
  /** An object member's key and colon. */
  const key = (): boolean => {
    space();
    if (!take(STRING)) return false;
    space();
    if (text[at] !== ':') return false;
    at += 1;
    return true;
  };
  const open: string[] = [];
  for (;;) {
    // A value is expected here.
    space();
    const c = text[at];
    if (c === '{' || c === '[') {
      at += 1;
      space();
      if (text[at] === (c === '{' ? '}' : ']')) at += 1;
      else {
        open.push(c);
        if (c === '{' && !key()) return at;
        continue;
      }
    } else if (!take(c === '"' ? STRING : SCALAR)) {
      return at;
    }
    // After a value: close containers until a comma asks for the next value.
    for (;;) {
      space();
      const top = open.at(-1);
      if (top === undefined) return at === text.length ? -1 : at;
      const d = text[at];
      if (d === ',') {
        at += 1;
        if (top === '{' && !key()) return at;
        break;
      }
      if (d !== (top === '{' ? '}' : ']')) return at;
      at += 1;
      open.pop();
    }
  }
}

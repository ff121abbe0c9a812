/**
 * `$(VAR)` expansion as the kubelet does it for env values, command and args:
 * `$(NAME)` becomes the variable's value when it is known and stays as written when it
 * is not; `$$` is an escaped `$`; a `$` followed by anything else, or an unclosed `$(`,
 * is kept literally. Users rely on unknown references surviving untouched, so this must
 * never fail.
 */
export type VarLookup = (name: string) => string | undefined;

/** Looks a name up in each map in turn, first hit wins. */
export function lookupIn(...maps: ReadonlyMap<string, string>[]): VarLookup {
  return (name) => {
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

export function expandVars(input: string, lookup: VarLookup): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

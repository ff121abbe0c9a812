// Counters from a Prometheus text exposition, summed by the labels a bench cares about:
// what a window of a run cost, as the difference of two scrapes.

/** The samples of `metric`, summed by `key(labels)`. */
export function counters(text: string, metric: string, key: (labels: Record<string, string>) => string): Map<string, number> {
  const out = new Map<string, number>();
  const lineRe = new RegExp(`^${metric}(?:\\{(.*)\\})? (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = lineRe.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    const k = key(labels);
    out.set(k, (out.get(k) ?? 0) + Number(m[2]));
  }
  return out;
}

/** after - before, per key; keys that did not move are left out. */
export function counterDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

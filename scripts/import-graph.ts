// The static value imports between the project's own modules (type-only imports and
// dynamic import() are left out: neither can make a load-time cycle). Used by the
// import-cycle test and by `npm run lint:cycles`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gen' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const importRe = /^\s*(import|export)\s+(?!type\b)([^'"]*?from\s+)?['"](\.[^'"]+)['"]/gm;

export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(importRe)) {
      const clause = m[2] ?? '';
      // `import { type A, type B } from` imports nothing at run time.
      if (
        /^\{[^}]*\}\s*from\s+$/.test(`${clause.trim()} `) &&
        clause
          .replace(/[{}]/g, '')
          .split(',')
          .every((s) => s.trim() === '' || s.trim().startsWith('type '))
      )
        continue;
      deps.push(resolve(dirname(file), (m[3] as string).replace(/\.js$/, '.ts')));
    }
    graph.set(resolve(file), deps);
  }
  return graph;
}

/** Every cycle, as a list of files relative to `base`, each reported once. */
export function findCycles(graph: Map<string, string[]>, base: string): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === 'open') {
        const cycle = stack.slice(stack.indexOf(dep)).map((f) => relative(base, f));
        const key = [...cycle].sort().join('>');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (!state.has(dep) && graph.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

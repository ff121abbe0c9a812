import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph } from '../../scripts/import-graph.js';

describe('import cycle finder', () => {
  it('finds a cycle of value imports and ignores type-only ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tskube-cycles-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src/a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
      writeFileSync(join(dir, 'src/b.ts'), "import { a } from './a.js';\nimport type { C } from './c.js';\nexport const b = () => a;\n");
      writeFileSync(join(dir, 'src/c.ts'), "import { type B } from './b.js';\nexport type C = B;\n");
      expect(findCycles(importGraph(join(dir, 'src')), dir)).toEqual([['src/a.ts', 'src/b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('src/ module graph', () => {
  it('has no import cycles', () => {
    const root = join(import.meta.dirname, '../..');
    expect(findCycles(importGraph(join(root, 'src')), root)).toEqual([]);
  });

  it('keeps the proxy and the kubelet apart (both may use src/kube)', () => {
    const root = join(import.meta.dirname, '../..');
    const graph = importGraph(join(root, 'src'));
    const crossings = [...graph].flatMap(([file, deps]) =>
      deps
        .filter((d) => (file.includes('/src/proxy/') && d.includes('/src/kubelet/')) || (file.includes('/src/kubelet/') && d.includes('/src/proxy/')))
        .map((d) => `${file} -> ${d}`),
    );
    expect(crossings).toEqual([]);
  });
});

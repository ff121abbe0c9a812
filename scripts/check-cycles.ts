// npm run lint:cycles: fails when src/ has an import cycle.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles, importGraph } from './import-graph.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cycles = findCycles(importGraph(join(root, 'src')), root);
for (const c of cycles) console.log(`cycle: ${c.join(' -> ')} -> ${c[0]}`);
console.log(cycles.length === 0 ? 'no import cycles in src/' : `${cycles.length} import cycle(s)`);
process.exitCode = cycles.length === 0 ? 0 : 1;

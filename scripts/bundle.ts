// Bundles the CLI into dist/ with code splitting, so each subcommand's code (and the
// libraries only it uses) sits in its own chunk and loads only when that subcommand runs.
import { build, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

// Node builds the ESM namespace of a built-in module by reading every export, and
// node:http's WebSocket, CloseEvent and MessageEvent are getters that load Node's copy of
// undici (its source, code and objects: ~3 MiB of the kubelet's resident memory). ESM
// imports of node:http therefore go through require(), whose object reads nothing until used.
const httpByRequire: Plugin = {
  name: 'node-http-by-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) => (args.kind === 'import-statement' ? { path: 'node:http', namespace: 'http-by-require' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'http-by-require' }, () => ({ contents: "module.exports = require('node:http');", loader: 'js' }));
  },
};

const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  minifySyntax: true,
  legalComments: 'none',
  // Bundled CommonJS dependencies (grpc-js, yaml) call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __tskubeCreateRequire } from 'node:module'; const require = __tskubeCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
} as const;
// The benches build apart from the CLI: in one build, chunks shared with a bench keep
// whatever the bench uses (client-node's typed APIs, ~3 MB of source), and the kubelet
// would load it for nothing.
const cli = await build({ ...common, plugins: [httpByRequire], entryPoints: { tskube: 'src/cli/tskube.ts' }, chunkNames: 'chunks/[name]-[hash]' });
const benches = await build({
  ...common,
  plugins: [httpByRequire],
  entryPoints: {
    'bench/cri': 'bench/cri.ts',
    'bench/pod-startup': 'bench/pod-startup.ts',
    'bench/cni': 'bench/cni.ts',
    'bench/proxy': 'bench/proxy.ts',
    'bench/kubelet-api': 'bench/kubelet-api.ts',
    'bench/probes': 'bench/probes.ts',
    'bench/volumes': 'bench/volumes.ts',
    'bench/memory': 'bench/memory.ts',
  },
  chunkNames: 'bench/chunks/[name]-[hash]',
});
const result = {
  metafile: { inputs: { ...benches.metafile.inputs, ...cli.metafile.inputs }, outputs: { ...cli.metafile.outputs, ...benches.metafile.outputs } },
};
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
// V8 keeps each module's source text for the life of the process, and one non-ASCII
// character anywhere (esbuild keeps some comments verbatim, e.g. "response’s") makes it
// store the whole text as UTF-16: twice the bytes, ~7 MiB of the kubelet's resident
// memory. esbuild already escapes strings and identifiers, so what is left is in
// comments, where an escape means the same to a reader and nothing to the program.
for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'))) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  if (isAscii(text)) continue;
  writeFileSync(path, asciiOnly(text));
}
// Record which Node runs the CLI, so bin/tskube needs no PATH lookup or version check.
writeFileSync(join(outdir, 'node-path'), `${process.execPath}\n`);
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
console.log(`bundled ${outputs.length} files into dist/ (${Math.round(outputs.reduce((n, [, o]) => n + o.bytes, 0) / 1024)} KiB)`);

function isAscii(text: string): boolean {
  return !/[\u0080-\uffff]/.test(text);
}

/** Every non-ASCII UTF-16 unit as a \uXXXX escape. */
function asciiOnly(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Bundles the CLI into dist/ with code splitting, so each subcommand's code (and the
// libraries only it uses) sits in its own chunk and loads only when that subcommand runs.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    tskube: 'src/cli/tskube.ts',
    'bench/cri': 'bench/cri.ts',
    'bench/pod-startup': 'bench/pod-startup.ts',
    'bench/cni': 'bench/cni.ts',
    'bench/proxy': 'bench/proxy.ts',
    'bench/kubelet-api': 'bench/kubelet-api.ts',
    'bench/probes': 'bench/probes.ts',
    'bench/volumes': 'bench/volumes.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  minifySyntax: true,
  legalComments: 'none',
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS dependencies (grpc-js, yaml) call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __tskubeCreateRequire } from 'node:module'; const require = __tskubeCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
// Record which Node runs the CLI, so bin/tskube needs no PATH lookup or version check.
writeFileSync(join(outdir, 'node-path'), `${process.execPath}\n`);
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
console.log(`bundled ${outputs.length} files into dist/ (${Math.round(outputs.reduce((n, [, o]) => n + o.bytes, 0) / 1024)} KiB)`);

// Generates, from the unchanged upstream .proto files in proto/:
//  - TypeScript types (proto-loader-gen-types) under src/gen/<name>/
//  - a JSON descriptor per contract, so the CLI loads a parsed schema instead of
//    parsing .proto text at every start.
// Run with Node >= 24 (type stripping). Idempotent; rewrites src/gen/ each time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');

/** Options shared by the generated types and the runtime loader: they must agree. */
const loaderFlags = ['--longs=String', '--enums=String', '--bytes=Buffer', '--defaults', '--oneofs'];

const contracts = [
  { name: 'cri', file: 'proto/cri/api.proto' },
  { name: 'csi', file: 'proto/csi/csi.proto' },
  { name: 'pluginregistration', file: 'proto/pluginregistration/api.proto' },
  { name: 'grpc-health', file: 'proto/grpc-health/health.proto' },
];

const genRoot = join(root, 'src/gen');
rmSync(genRoot, { recursive: true, force: true });
for (const c of contracts) {
  const outDir = join(genRoot, c.name);
  mkdirSync(outDir, { recursive: true });
  execFileSync(
    join(root, 'node_modules/.bin/proto-loader-gen-types'),
    [...loaderFlags, '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js', `--outDir=${outDir}`, join(root, c.file)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // keepCase=false at parse time gives camelCase field names in the descriptor, the
  // same names the generated types use.
  const parsed = new protobuf.Root();
  // google/protobuf/*.proto imports (csi.proto) resolve to the copies protobufjs ships.
  const wellKnown = join(root, 'node_modules/protobufjs');
  parsed.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? join(wellKnown, target) : protobuf.util.path.resolve(origin, target));
  parsed.loadSync(join(root, c.file), { keepCase: false });
  parsed.resolveAll();
  writeFileSync(join(outDir, 'descriptor.json'), JSON.stringify(parsed.toJSON({ keepComments: false })));
}
console.log(`generated ${contracts.map((c) => c.name).join(', ')} into src/gen/`);

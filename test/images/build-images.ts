// Builds the project's images locally as OCI archives and imports them into
// containerd's k8s.io namespace. Nothing is pulled: the pause image is our own static
// binary (pause.c), the test image is Debian's busybox-static with every applet.
// With --grpc-health BIN (from test/images/grpc-health/build.sh) it also builds the gRPC
// probe tests' image: the busybox one plus that static gRPC health server.
// Run with Node >= 24: node test/images/build-images.ts [--cache DIR] [--force] [--grpc-health BIN]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ImageSpec {
  /** Names (repo:tag) the image is imported under. */
  names: string[];
  /** Fills the root filesystem directory. */
  fill: (rootfs: string) => void;
  config: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string };
}

const here = dirname(fileURLToPath(import.meta.url));
const cache = process.env['TSKUBE_CACHE'] ?? join(process.env['HOME'] ?? '/root', '.cache/tskube');
const force = process.argv.includes('--force');
const grpcHealthIndex = process.argv.indexOf('--grpc-health');
const grpcHealthBin = grpcHealthIndex > 0 ? process.argv[grpcHealthIndex + 1] : undefined;
const busybox = '/bin/busybox';
const path = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function run(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function fillPause(rootfs: string): void {
  const bin = join(rootfs, 'pause');
  run('gcc', ['-static', '-Os', '-s', '-o', bin, join(here, 'pause.c')]);
}

function fillBusybox(rootfs: string): void {
  for (const d of ['bin', 'etc', 'tmp', 'var/www', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(busybox, join(rootfs, 'bin/busybox'));
  for (const applet of run(busybox, ['--list']).split('\n')) {
    if (applet && applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
  writeFileSync(join(rootfs, 'var/www/index.html'), 'hello from tskube busybox\n');
}

function fillGrpcHealth(rootfs: string): void {
  fillBusybox(rootfs);
  copyFileSync(grpcHealthBin as string, join(rootfs, 'grpc-health'));
}

// A static Go binary (CGO off, standard library only): the testbed's Go toolchain builds it.
function fillKubeGet(rootfs: string): void {
  const go = process.env['GO'] ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go');
  execFileSync(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', join(rootfs, 'kube-get'), join(here, 'kube-get/main.go')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' },
  });
}

const images: ImageSpec[] = [
  {
    // Tagged as the sandbox image containerd and the kubelet expect by default.
    names: ['registry.k8s.io/pause:3.10', 'localhost/tskube/pause:latest'],
    fill: fillPause,
    config: { Entrypoint: ['/pause'], Env: [path] },
  },
  {
    names: ['localhost/tskube/busybox:latest'],
    fill: fillBusybox,
    config: { Cmd: ['sh'], Env: [path] },
  },
  // The same files with a USER, for runAsNonRoot: a numeric one the kubelet can verify, and a name it cannot.
  {
    names: ['localhost/tskube/busybox-nonroot:latest'],
    fill: fillBusybox,
    config: { Cmd: ['sh'], Env: [path], User: '1000:1000' },
  },
  {
    names: ['localhost/tskube/busybox-named:latest'],
    fill: fillBusybox,
    config: { Cmd: ['sh'], Env: [path], User: 'nobody' },
  },
  {
    // An in-cluster API client for pods (test/images/kube-get), for the service proxy's e2e.
    names: ['localhost/tskube/kube-get:latest'],
    fill: fillKubeGet,
    config: { Entrypoint: ['/kube-get'], Env: [path] },
  },
  ...(grpcHealthBin
    ? [
        {
          names: ['localhost/tskube/grpc-health:latest'],
          fill: fillGrpcHealth,
          config: { Entrypoint: ['/grpc-health'], Env: [path] },
        },
      ]
    : []),
];

/** Writes an OCI image layout for one image and returns it as a tar archive path. */
function buildArchive(spec: ImageSpec, work: string): { archive: string; manifestDigest: string } {
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'layout');
  const blobs = join(layout, 'blobs/sha256');
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  spec.fill(rootfs);
  // A reproducible layer: sorted, fixed times and owners, gzip without a timestamp.
  const layerTar = join(work, 'layer.tar');
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const layerRaw = readFileSync(layerTar);
  // zlib writes no name and a zero mtime into the gzip header: the digest is stable.
  const layerGz = gzipSync(layerRaw, { level: 9 });
  const blob = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layer = blob(layerGz);
  const config = blob(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layerRaw)}`] },
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: spec.names.map((name) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...manifest,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
      })),
    }),
  );
  const archive = join(work, 'image.tar');
  run('tar', ['-C', layout, '-cf', archive, '.']);
  return { archive, manifestDigest: manifest.digest };
}

/** Names already in containerd's k8s.io namespace, with their digests. */
function importedImages(): Map<string, string> {
  const out = run('ctr', ['-n', 'k8s.io', 'images', 'ls']);
  const map = new Map<string, string>();
  for (const line of out.split('\n').slice(1)) {
    const [ref, , digest] = line.split(/\s+/);
    if (ref && digest) map.set(ref, digest);
  }
  return map;
}

const stampDir = join(cache, 'images');
mkdirSync(stampDir, { recursive: true });
const present = importedImages();
for (const spec of images) {
  const stamp = join(stampDir, `${spec.names[0]!.replace(/[/:]/g, '_')}.digest`);
  const known = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
  if (!force && known && spec.names.every((n) => present.get(n) === known)) continue;
  const work = mkdtempSync(join(tmpdir(), 'tskube-image-'));
  try {
    const { archive, manifestDigest } = buildArchive(spec, work);
    // import also unpacks into the default snapshotter, so the first start does not pay for it.
    run('ctr', ['-n', 'k8s.io', 'images', 'import', archive]);
    writeFileSync(stamp, `${manifestDigest}\n`);
    console.log(`imported ${spec.names.join(', ')} (${manifestDigest.slice(0, 19)})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

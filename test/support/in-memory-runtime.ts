/*
 * An in-memory container runtime behind the kubelet's CriRuntime seam, for unit tests of
 * the kubelet's own logic (the integration and e2e tests use the real containerd). It is
 * a model, not a recorder: it keeps sandboxes, containers and images and moves them
 * through the states containerd 1.6 (the test machines' version) moves them through,
 * with the same replies and the same errors, so a test asserts on what the runtime holds.
 *
 *   RunPodSandbox ─► SANDBOX_READY ─StopPodSandbox─► SANDBOX_NOTREADY ─RemovePodSandbox─► gone
 *                       (containers SIGKILLed, IP released)
 *
 *   CreateContainer ─► CREATED ─StartContainer─► RUNNING ─exits / StopContainer─► EXITED ─RemoveContainer─► gone
 *                         └─ start fails (program.startError, sandbox not ready) ─► EXITED 128 StartError
 *
 * What a container does is its Program (output, exit after some time with some code,
 * files written through its mounts, whether SIGTERM stops it, exec replies). Time is the
 * process clock (`Date.now()`, which vitest's fake timers move), in nanoseconds; an exit
 * due by now is applied at the start of the next call. Requests and replies go through
 * the CRI wire encoding, so every reply has every field, as the real client's do; errors
 * are gRPC statuses mapped by the real client's callError, so messages match too.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { TskubeError } from '../../src/common/errors.js';
import { callError } from '../../src/cri-client/call-error.js';
import { criDefinitions } from '../../src/cri-client/descriptor.js';
import type { CallOptions } from '../../src/cri-client/service-caller.js';
import type { ContainerConfig__Output } from '../../src/gen/cri/runtime/v1/ContainerConfig.js';
import type { ImageServiceDefinition } from '../../src/gen/cri/runtime/v1/ImageService.js';
import type { Image } from '../../src/gen/cri/runtime/v1/Image.js';
import type { PodSandboxConfig__Output } from '../../src/gen/cri/runtime/v1/PodSandboxConfig.js';
import type { RuntimeServiceDefinition } from '../../src/gen/cri/runtime/v1/RuntimeService.js';
import type { CriRuntime, ImageRpc, RpcCaller, RuntimeRpc } from '../../src/kubelet/runtime/cri-runtime.js';

type SandboxStateName = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
type StatusName = keyof typeof grpcStatus;

/** What the test knows about a container when it picks its program. */
export interface ContainerInfo {
  id: string;
  /** The container's metadata name (the pod spec's container name). */
  name: string;
  attempt: number;
  podName: string;
  podNamespace: string;
  podUid: string;
  image: string;
  command: string[];
  args: string[];
  env: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout?: string;
  stderr?: string;
  /** How long the command runs; past the ExecSync timeout the call fails as containerd's does. */
  durationMs?: number;
}

/** What a container does once started. The default runs until stopped and exits on SIGTERM. */
export interface Program {
  /** StartContainer fails with this text (and the container is EXITED 128, reason StartError). */
  startError?: string;
  /** Written to the container's log at start, one CRI log line per line. */
  stdout?: string;
  stderr?: string;
  /** Exits by itself this long after it started. */
  exitAfterMs?: number;
  /** Its exit code when it exits by itself (default 0). */
  exitCode?: number;
  /** Files it writes (container path → contents) just before it exits, through its mounts. */
  writes?: Record<string, string>;
  /** Like a shell as PID 1: SIGTERM does nothing, only the SIGKILL after the grace period stops it (exit 137). */
  ignoresSigterm?: boolean;
  /** ExecSync replies; without it every command exits 0 with no output. */
  exec?: (cmd: string[]) => ExecResult;
}

export type ProgramChoice = Program | ((c: ContainerInfo) => Program);

/** A failure to inject: a gRPC status with its details, or a call that never answers (it ends at its deadline). */
export type Fault = { code: StatusName; message: string } | 'hang';

export interface ImageSeed {
  /** A reference as users write it; stored normalised (docker.io/library/busybox:latest). */
  ref: string;
  /** Its ID (sha256:…); made up from the reference when not given. */
  id?: string;
  /** Its repo digests. */
  repoDigests?: string[];
  size?: number;
  /** The image config's USER ("1000", "nginx", "1000:1000"); none runs as root. */
  user?: string;
}

export interface InMemoryRuntimeOptions {
  endpoint?: string;
  /** Images present from the start. */
  images?: ImageSeed[];
  /** Images a PullImage can fetch (by normalised reference), beyond the present ones. */
  registry?: ImageSeed[];
  /** The deadline of a call that names none, as CriClient's timeoutMs. */
  timeoutMs?: number;
  runtimeVersion?: string;
  /** The cgroup driver RuntimeConfig reports; containerd 1.6 does not implement it (the default). */
  cgroupDriver?: 'SYSTEMD' | 'CGROUPFS';
  /** The program of a container no rule below matches. */
  defaultProgram?: ProgramChoice;
}

interface SandboxRecord {
  id: string;
  config: PodSandboxConfig__Output;
  name: string;
  state: SandboxStateName;
  createdAt: bigint;
  ip: string;
  hostNetwork: boolean;
  runtimeHandler: string;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: ContainerConfig__Output;
  name: string;
  state: ContainerStateName;
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  imageId: string;
  logPath: string;
  program: Program;
  /** When a running container exits by itself (ns). */
  exitAt?: bigint;
  stopping?: Promise<void>;
}

interface ImageRecord {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  user: string;
}

interface InjectedFault {
  method: string;
  fault: Fault;
  times: number;
  match?: (request: unknown) => boolean;
}

/** One call as the runtime received it (the wire request, every field present). */
export interface RecordedCall {
  method: RuntimeRpc | ImageRpc;
  request: Record<string, unknown>;
  /** What it was about when it came, by name: "web" (a pod), "web/app" (a container), an image. */
  target: string;
}

const sigkillExit = 137;
const sigtermExit = 143;

/** A reference as containerd stores it: registry, repository and tag spelt out. */
export function normalizeImageRef(ref: string): string {
  if (ref.startsWith('sha256:')) return ref;
  let name = ref;
  const first = name.split('/')[0] ?? '';
  if (!name.includes('/')) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  if (name.includes('@')) return name;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? name : `${name}:latest`;
}

function hex64(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

function serviceError(code: StatusName, details: string): ServiceError {
  const numeric = grpcStatus[code];
  return Object.assign(new Error(`${numeric} ${code}: ${details}`), { code: numeric, details, metadata: new Metadata() });
}

/** An RFC 3339 timestamp with nanoseconds, as the CRI log format has it. */
function logTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

export class InMemoryRuntime implements CriRuntime {
  readonly endpoint: string;
  readonly runtime: RpcCaller<RuntimeServiceDefinition, RuntimeRpc>;
  readonly image: RpcCaller<ImageServiceDefinition, ImageRpc>;
  /** Every call in the order received. */
  readonly calls: RecordedCall[] = [];

  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #containers = new Map<string, ContainerRecord>();
  readonly #images = new Map<string, ImageRecord>();
  readonly #registry = new Map<string, ImageSeed>();
  /** Reserved names (containerd's name index): sandbox and container names → ID. */
  readonly #names = new Map<string, string>();
  readonly #faults: InjectedFault[] = [];
  readonly #programs: { match: (c: ContainerInfo) => boolean; program: ProgramChoice }[] = [];
  readonly #timeoutMs: number;
  readonly #runtimeVersion: string;
  readonly #cgroupDriver: 'SYSTEMD' | 'CGROUPFS' | undefined;
  readonly #defaultProgram: ProgramChoice;
  #down: string | undefined;
  #seq = 0;
  #lastNs = 0n;
  #nextIp = 2;

  constructor(options: InMemoryRuntimeOptions = {}) {
    this.endpoint = options.endpoint ?? 'unix:///run/in-memory/containerd.sock';
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#runtimeVersion = options.runtimeVersion ?? '1.6.20~ds1';
    this.#cgroupDriver = options.cgroupDriver;
    this.#defaultProgram = options.defaultProgram ?? {};
    for (const seed of options.images ?? []) this.addImage(seed);
    for (const seed of options.registry ?? []) this.#registry.set(normalizeImageRef(seed.ref), seed);
    const defs = criDefinitions();
    this.runtime = { call: (name, request, opts) => this.#call(defs.runtime, name, request, opts, this.#runtimeHandlers) };
    this.image = { call: (name, request, opts) => this.#call(defs.image, name, request, opts, this.#imageHandlers) };
  }

  // ─── What the test does to the world ───────────────────────────────────────

  /** The program of containers with this name (any pod), or those `match` picks. Later rules win. */
  program(match: string | ((c: ContainerInfo) => boolean), program: ProgramChoice): this {
    this.#programs.unshift({ match: typeof match === 'string' ? (c) => c.name === match : match, program });
    return this;
  }

  /** The next `times` calls of `method` (matching `match`) fail with `fault`. */
  inject(method: RuntimeRpc | ImageRpc, fault: Fault, options: { times?: number; match?: (request: Record<string, unknown>) => boolean } = {}): this {
    this.#faults.push({ method, fault, times: options.times ?? 1, ...(options.match ? { match: options.match as (r: unknown) => boolean } : {}) });
    return this;
  }

  /** The runtime stops answering (socket gone) until up(). */
  down(reason = 'No connection established. Last error: connect ENOENT /run/in-memory/containerd.sock'): void {
    this.#down = reason;
  }

  up(): void {
    this.#down = undefined;
  }

  /** The registry gets an image a later PullImage can fetch. */
  publish(seed: ImageSeed): void {
    this.#registry.set(normalizeImageRef(seed.ref), seed);
  }

  addImage(seed: ImageSeed): string {
    const ref = normalizeImageRef(seed.ref);
    const id = seed.id ?? `sha256:${hex64(`image ${ref}`)}`;
    const existing = this.#images.get(id);
    if (existing) return id;
    this.#images.set(id, { id, repoTags: [ref], repoDigests: seed.repoDigests ?? [], size: seed.size ?? 1_000_000, user: seed.user ?? '' });
    return id;
  }

  /** The process exits now with `exitCode` (a crash, an OOM kill with reason OOMKilled). */
  exit(containerId: string, exitCode: number, reason = ''): void {
    this.#settle();
    const c = this.#containers.get(containerId);
    if (c?.state !== 'CONTAINER_RUNNING') throw new Error(`container ${containerId} is not running`);
    this.#exit(c, exitCode, this.#now(), reason);
  }

  /** The sandbox's pause process dies: containerd marks the sandbox NOTREADY. */
  killSandbox(sandboxId: string): void {
    const s = this.#sandboxes.get(sandboxId);
    if (!s) throw new Error(`no sandbox ${sandboxId}`);
    s.state = 'SANDBOX_NOTREADY';
  }

  /** Containers by pod and container name, oldest first. */
  containersOf(
    podName: string,
    containerName?: string,
  ): { id: string; state: ContainerStateName; attempt: number; exitCode: number; sandboxId: string; startedAt: bigint; finishedAt: bigint }[] {
    this.#settle();
    return [...this.#containers.values()]
      .filter((c) => this.#sandboxes.get(c.sandboxId)?.config.metadata?.name === podName && (containerName === undefined || c.name === containerName))
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
      .map((c) => ({
        id: c.id,
        state: c.state,
        attempt: c.config.metadata?.attempt ?? 0,
        exitCode: c.exitCode,
        sandboxId: c.sandboxId,
        startedAt: c.startedAt,
        finishedAt: c.finishedAt,
      }));
  }

  /** The resources a container runs with (its CreateContainer config, or its last UpdateContainerResources). */
  resourcesOf(containerId: string): { cpuShares: string; cpuQuota: string; memoryLimitInBytes: string } | undefined {
    const r = this.#containers.get(containerId)?.config.linux?.resources;
    return r ? { cpuShares: String(r.cpuShares), cpuQuota: String(r.cpuQuota), memoryLimitInBytes: String(r.memoryLimitInBytes) } : undefined;
  }

  sandboxesOf(podName: string): { id: string; state: SandboxStateName; attempt: number; ip: string }[] {
    return [...this.#sandboxes.values()]
      .filter((s) => s.config.metadata?.name === podName)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
      .map((s) => ({ id: s.id, state: s.state, attempt: s.config.metadata?.attempt ?? 0, ip: s.ip }));
  }

  /** The calls made so far, as "Method target" lines (the pod/container names, not IDs). */
  callLog(filter?: (method: string) => boolean): string[] {
    return this.calls.filter((c) => !filter || filter(c.method)).map((c) => (c.target ? `${c.method} ${c.target}` : c.method));
  }

  /**
   * What the runtime holds, one line per object, in creation order: images, then each
   * sandbox with its containers. Stable across runs (no IDs, no times), for golden tests.
   */
  dump(): string {
    this.#settle();
    const lines: string[] = [];
    for (const i of [...this.#images.values()].sort((a, b) => (a.repoTags[0] ?? '').localeCompare(b.repoTags[0] ?? '')))
      lines.push(`image ${i.repoTags.join(' ')}`);
    for (const s of [...this.#sandboxes.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))) {
      const m = s.config.metadata;
      lines.push(`sandbox ${m?.namespace}/${m?.name} attempt=${m?.attempt} ${s.state}${s.ip ? ` ${s.ip}` : ''}`);
      const containers = [...this.#containers.values()].filter((c) => c.sandboxId === s.id).sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
      for (const c of containers) {
        const exited = c.state === 'CONTAINER_EXITED' ? ` exit=${c.exitCode} ${this.#reason(c)}` : '';
        lines.push(`  container ${c.name} attempt=${c.config.metadata?.attempt} ${c.state}${exited}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  // ─── The call path: faults, deadline, wire encoding, errors ────────────────

  async #call<D extends object>(
    definitions: D,
    method: string,
    request: unknown,
    options: CallOptions = {},
    handlers: Record<string, (req: never, signal: AbortSignal | undefined) => unknown>,
  ): Promise<never> {
    const def = (
      definitions as Record<
        string,
        {
          requestSerialize(v: unknown): Buffer;
          requestDeserialize(b: Buffer): unknown;
          responseSerialize(v: unknown): Buffer;
          responseDeserialize(b: Buffer): unknown;
        }
      >
    )[method];
    if (!def) throw new TskubeError('unimplemented', `${method}: not in the CRI runtime.v1 definition`);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const ctx = { method, request, endpoint: this.endpoint, timeoutMs };
    const signal = options.signal;
    if (signal?.aborted) throw TskubeError.from(signal.reason, 'canceled').wrap(method);
    const wire = def.requestDeserialize(def.requestSerialize(request)) as Record<string, unknown>;
    this.calls.push({ method: method as RuntimeRpc, request: wire, target: this.#describe(wire) });

    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const ended = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(serviceError('DEADLINE_EXCEEDED', 'Deadline exceeded')), timeoutMs);
      timer.unref?.();
      onAbort = () => reject(serviceError('CANCELLED', 'Cancelled on client'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const work = (async () => {
      const fault = this.#takeFault(method, wire);
      if (fault === 'hang') return new Promise<never>(() => undefined);
      if (fault) throw serviceError(fault.code, fault.message);
      if (this.#down !== undefined) throw serviceError('UNAVAILABLE', this.#down);
      this.#settle();
      const handler = handlers[method];
      if (!handler) throw serviceError('UNIMPLEMENTED', `unknown method ${method} for service runtime.v1`);
      const reply = await handler(wire as never, signal);
      return def.responseDeserialize(def.responseSerialize(reply));
    })();
    try {
      return (await Promise.race([work, ended])) as never;
    } catch (err) {
      throw callError(err, ctx);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      // A call abandoned at its deadline may still fail later, as a server-side operation does.
      work.catch(() => undefined);
    }
  }

  #takeFault(method: string, request: unknown): Fault | undefined {
    const i = this.#faults.findIndex((f) => f.method === method && (!f.match || f.match(request)));
    if (i < 0) return undefined;
    const f = this.#faults[i]!;
    if (--f.times <= 0) this.#faults.splice(i, 1);
    return f.fault;
  }

  // ─── State ─────────────────────────────────────────────────────────────────

  /** Now in nanoseconds, strictly increasing so creation order is always decidable. */
  #now(): bigint {
    const ns = BigInt(Date.now()) * 1_000_000n;
    this.#lastNs = ns > this.#lastNs ? ns : this.#lastNs + 1n;
    return this.#lastNs;
  }

  /** The end of the current millisecond: what is due by then has happened (stamps within it differ by a few ns). */
  #peek(): bigint {
    return (BigInt(Date.now()) + 1n) * 1_000_000n - 1n;
  }

  #newId(kind: string): string {
    return hex64(`${kind} ${++this.#seq}`);
  }

  /** Applies the exits that are due. */
  #settle(): void {
    const now = this.#peek();
    for (const c of this.#containers.values()) {
      if (c.state === 'CONTAINER_RUNNING' && c.exitAt !== undefined && c.exitAt <= now) this.#exit(c, c.program.exitCode ?? 0, c.exitAt);
    }
  }

  #exit(c: ContainerRecord, exitCode: number, at: bigint, reason = ''): void {
    if (c.state !== 'CONTAINER_RUNNING') return;
    for (const [path, text] of Object.entries(c.program.writes ?? {})) {
      const host = this.#hostPath(c, path);
      if (host) writeFileSync(host, text);
    }
    c.state = 'CONTAINER_EXITED';
    c.exitCode = exitCode;
    c.finishedAt = at;
    c.reason = reason;
    c.exitAt = undefined;
  }

  #hostPath(c: ContainerRecord, containerPath: string): string | undefined {
    const m = c.config.mounts.find((x) => containerPath === x.containerPath || containerPath.startsWith(`${x.containerPath}/`));
    return m ? m.hostPath + containerPath.slice(m.containerPath.length) : undefined;
  }

  #reason(c: ContainerRecord): string {
    if (c.state !== 'CONTAINER_EXITED' || c.reason) return c.reason;
    return c.exitCode === 0 ? 'Completed' : 'Error';
  }

  #resolveImage(ref: string): ImageRecord | undefined {
    if (this.#images.has(ref)) return this.#images.get(ref);
    const normal = normalizeImageRef(ref);
    for (const i of this.#images.values()) {
      if (i.repoTags.includes(normal) || i.repoDigests.includes(ref) || (ref.length >= 12 && i.id.startsWith(`sha256:${ref}`))) return i;
    }
    return undefined;
  }

  #info(c: ContainerRecord): ContainerInfo {
    const s = this.#sandboxes.get(c.sandboxId);
    return {
      id: c.id,
      name: c.name,
      attempt: c.config.metadata?.attempt ?? 0,
      podName: s?.config.metadata?.name ?? '',
      podNamespace: s?.config.metadata?.namespace ?? '',
      podUid: s?.config.metadata?.uid ?? '',
      image: c.config.image?.image ?? '',
      command: c.config.command,
      args: c.config.args,
      env: Object.fromEntries(c.config.envs.map((e) => [e.key, Buffer.from(e.value).toString('utf8')])),
    };
  }

  #programFor(info: ContainerInfo): Program {
    const choice = this.#programs.find((p) => p.match(info))?.program ?? this.#defaultProgram;
    return typeof choice === 'function' ? choice(info) : choice;
  }

  #describe(request: Record<string, unknown>): string {
    const cid = request['containerId'];
    if (typeof cid === 'string' && cid) {
      const c = this.#containers.get(cid);
      return c ? `${this.#sandboxes.get(c.sandboxId)?.config.metadata?.name ?? '?'}/${c.name}` : cid.slice(0, 12);
    }
    const sid = request['podSandboxId'];
    const config = request['config'] as { metadata?: { name?: string } } | null | undefined;
    if (typeof sid === 'string' && sid) {
      const s = this.#sandboxes.get(sid);
      const pod = s?.config.metadata?.name ?? sid.slice(0, 12);
      return config?.metadata?.name ? `${pod}/${config.metadata.name}` : pod;
    }
    if (config?.metadata?.name) return config.metadata.name;
    const image = request['image'] as { image?: string } | null | undefined;
    return image?.image ?? '';
  }

  #sandbox(id: string, what: string): SandboxRecord {
    const s = this.#sandboxes.get(id);
    if (!s) throw serviceError('NOT_FOUND', `${what} "${id}": not found`);
    return s;
  }

  #container(id: string): ContainerRecord {
    const c = this.#containers.get(id);
    if (!c) throw serviceError('NOT_FOUND', `an error occurred when try to find container "${id}": not found`);
    return c;
  }

  /** containerd's stopContainer: SIGTERM and up to `timeoutSeconds` of waiting, then SIGKILL. */
  async #stop(c: ContainerRecord, timeoutSeconds: number): Promise<void> {
    if (c.state !== 'CONTAINER_RUNNING') return;
    if (timeoutSeconds > 0 && !c.program.ignoresSigterm) {
      this.#exit(c, sigtermExit, this.#now());
      return;
    }
    if (timeoutSeconds > 0) {
      c.stopping ??= (async () => {
        const untilExitMs = c.exitAt === undefined ? Infinity : Number((c.exitAt - this.#peek()) / 1_000_000n);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(timeoutSeconds * 1000, untilExitMs))));
        this.#settle();
      })().finally(() => {
        c.stopping = undefined;
      });
      await c.stopping;
    }
    this.#exit(c, sigkillExit, this.#now());
  }

  #stopSandbox(s: SandboxRecord): void {
    for (const c of this.#containers.values()) if (c.sandboxId === s.id) this.#exit(c, sigkillExit, this.#now());
    s.state = 'SANDBOX_NOTREADY';
    s.ip = '';
  }

  #removeContainer(c: ContainerRecord): void {
    this.#exit(c, sigkillExit, this.#now());
    this.#containers.delete(c.id);
    this.#names.delete(this.#containerName(c.config, this.#sandboxes.get(c.sandboxId)?.config));
  }

  #containerName(config: ContainerConfig__Output, sandbox: PodSandboxConfig__Output | undefined): string {
    const m = sandbox?.metadata;
    return [config.metadata?.name, m?.name, m?.namespace, m?.uid, config.metadata?.attempt].join('_');
  }

  #startLog(c: ContainerRecord, at: bigint): void {
    const lines = [
      ...(c.program.stdout ?? '')
        .split('\n')
        .filter((l, i, all) => l !== '' || i < all.length - 1)
        .map((l) => ({ stream: 'stdout', l })),
      ...(c.program.stderr ?? '')
        .split('\n')
        .filter((l, i, all) => l !== '' || i < all.length - 1)
        .map((l) => ({ stream: 'stderr', l })),
    ];
    const text = lines.map(({ stream, l }) => `${logTimestamp(at)} ${stream} F ${l}\n`).join('');
    appendFileSync(c.logPath, text);
  }

  #imageReply(i: ImageRecord): Image {
    // As containerd: the user part of USER, a uid when numeric, else a name.
    const user = i.user.split(':')[0] ?? '';
    if (/^\d+$/.test(user)) return { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: String(i.size), uid: { value: user }, username: '' };
    return { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: String(i.size), username: user };
  }

  // ─── RuntimeService ────────────────────────────────────────────────────────

  readonly #runtimeHandlers: Handlers<RuntimeServiceDefinition, RuntimeRpc> = {
    Version: () => ({ version: '0.1.0', runtimeName: 'containerd', runtimeVersion: this.#runtimeVersion, runtimeApiVersion: 'v1' }),
    Status: () => ({
      status: {
        conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          { type: 'NetworkReady', status: true, reason: '', message: '' },
        ],
      },
    }),
    RuntimeConfig: () => {
      if (!this.#cgroupDriver) throw serviceError('UNIMPLEMENTED', 'unknown method RuntimeConfig for service runtime.v1.RuntimeService');
      return { linux: { cgroupDriver: this.#cgroupDriver } };
    },

    RunPodSandbox: (req) => {
      const config = req.config as PodSandboxConfig__Output;
      const m = config.metadata;
      const name = [m?.name, m?.namespace, m?.uid, m?.attempt].join('_');
      const taken = this.#names.get(name);
      if (taken) throw serviceError('UNKNOWN', `failed to reserve sandbox name "${name}": name "${name}" is reserved for "${taken}"`);
      const id = this.#newId('sandbox');
      this.#names.set(name, id);
      const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
      this.#sandboxes.set(id, {
        id,
        config,
        name,
        state: 'SANDBOX_READY',
        createdAt: this.#now(),
        ip: hostNetwork ? '' : `10.88.0.${this.#nextIp++}`,
        hostNetwork,
        runtimeHandler: req.runtimeHandler,
      });
      return { podSandboxId: id };
    },
    StopPodSandbox: (req) => {
      this.#stopSandbox(this.#sandbox(req.podSandboxId, 'an error occurred when try to find sandbox'));
      return {};
    },
    RemovePodSandbox: (req) => {
      const s = this.#sandboxes.get(req.podSandboxId);
      if (!s) return {};
      this.#stopSandbox(s);
      for (const c of [...this.#containers.values()]) if (c.sandboxId === s.id) this.#removeContainer(c);
      this.#sandboxes.delete(s.id);
      this.#names.delete(s.name);
      return {};
    },
    PodSandboxStatus: (req) => {
      const s = this.#sandbox(req.podSandboxId, 'an error occurred when try to find sandbox');
      return {
        status: {
          id: s.id,
          metadata: s.config.metadata,
          state: s.state,
          createdAt: String(s.createdAt),
          network: { ip: s.ip, additionalIps: [] },
          linux: { namespaces: { options: s.config.linux?.securityContext?.namespaceOptions ?? {} } },
          labels: s.config.labels,
          annotations: s.config.annotations,
          runtimeHandler: s.runtimeHandler,
        },
        info: {},
      };
    },
    ListPodSandbox: (req) => {
      const f = req.filter;
      const items = [...this.#sandboxes.values()].filter(
        (s) =>
          (!f?.id || s.id.startsWith(f.id)) &&
          (!f?.state || s.state === f.state.state) &&
          Object.entries(f?.labelSelector ?? {}).every(([k, v]) => s.config.labels[k] === v),
      );
      return {
        items: items.map((s) => ({
          id: s.id,
          metadata: s.config.metadata,
          state: s.state,
          createdAt: String(s.createdAt),
          labels: s.config.labels,
          annotations: s.config.annotations,
          runtimeHandler: s.runtimeHandler,
        })),
      };
    },

    CreateContainer: (req) => {
      const s = this.#sandbox(req.podSandboxId, 'failed to find sandbox id');
      if (s.state !== 'SANDBOX_READY')
        throw serviceError('NOT_FOUND', `failed to get sandbox container task: no running task found: task ${s.id} not found: not found`);
      const config = req.config as ContainerConfig__Output;
      if (!config.metadata) throw serviceError('UNKNOWN', 'container config must include metadata');
      const name = this.#containerName(config, s.config);
      const taken = this.#names.get(name);
      if (taken) throw serviceError('UNKNOWN', `failed to reserve container name "${name}": name "${name}" is reserved for "${taken}"`);
      const image = this.#resolveImage(config.image?.image ?? '');
      if (!image) throw serviceError('NOT_FOUND', `failed to resolve image "${config.image?.image ?? ''}": not found`);
      const id = this.#newId('container');
      this.#names.set(name, id);
      // containerd 1.6 stores the config as it knows it: ImageSpec.userSpecifiedImage is newer than its CRI.
      const stored = { ...config, image: config.image ? { ...config.image, userSpecifiedImage: '' } : null };
      const record: ContainerRecord = {
        id,
        sandboxId: s.id,
        config: stored,
        name: config.metadata.name,
        state: 'CONTAINER_CREATED',
        createdAt: this.#now(),
        startedAt: 0n,
        finishedAt: 0n,
        exitCode: 0,
        reason: '',
        message: '',
        imageId: image.id,
        logPath: s.config.logDirectory && config.logPath ? join(s.config.logDirectory, config.logPath) : '',
        program: {},
      };
      this.#containers.set(id, record);
      record.program = this.#programFor(this.#info(record));
      return { containerId: id };
    },
    StartContainer: (req) => {
      const c = this.#container(req.containerId);
      if (c.state !== 'CONTAINER_CREATED')
        throw serviceError('UNKNOWN', `failed to set starting state for container "${c.id}": container is in ${c.state} state`);
      const fail = (message: string) => {
        c.state = 'CONTAINER_EXITED';
        c.finishedAt = this.#now();
        c.exitCode = 128;
        c.reason = 'StartError';
        c.message = message;
        return serviceError('UNKNOWN', message);
      };
      if (this.#sandboxes.get(c.sandboxId)?.state !== 'SANDBOX_READY') throw fail(`sandbox container "${c.sandboxId}" is not running`);
      if (c.logPath && !existsSync(dirname(c.logPath))) {
        throw fail(
          `failed to create containerd task: failed to create container loggers: failed to open log file: open ${c.logPath}: no such file or directory`,
        );
      }
      if (c.program.startError !== undefined) throw fail(c.program.startError);
      const now = this.#now();
      c.state = 'CONTAINER_RUNNING';
      c.startedAt = now;
      if (c.logPath) this.#startLog(c, now);
      if (c.program.exitAfterMs !== undefined) c.exitAt = now + BigInt(Math.round(c.program.exitAfterMs * 1_000_000));
      return {};
    },
    StopContainer: async (req) => {
      await this.#stop(this.#container(req.containerId), Number(req.timeout));
      return {};
    },
    UpdateContainerResources: (req) => {
      const c = this.#container(req.containerId);
      if (c.state !== 'CONTAINER_RUNNING' && c.state !== 'CONTAINER_CREATED') {
        throw serviceError('UNKNOWN', `container "${c.id}" is not running or created`);
      }
      if (c.config.linux && req.linux) c.config.linux.resources = req.linux as NonNullable<typeof c.config.linux>['resources'];
      return {};
    },
    RemoveContainer: (req) => {
      const c = this.#containers.get(req.containerId);
      if (c) this.#removeContainer(c);
      return {};
    },
    ListContainers: (req) => {
      const f = req.filter;
      const items = [...this.#containers.values()].filter(
        (c) =>
          (!f?.id || c.id.startsWith(f.id)) &&
          (!f?.podSandboxId || c.sandboxId.startsWith(f.podSandboxId)) &&
          (!f?.state || c.state === f.state.state) &&
          Object.entries(f?.labelSelector ?? {}).every(([k, v]) => c.config.labels[k] === v),
      );
      return {
        containers: items.map((c) => ({
          id: c.id,
          podSandboxId: c.sandboxId,
          metadata: c.config.metadata,
          image: c.config.image,
          imageRef: c.imageId,
          state: c.state,
          createdAt: String(c.createdAt),
          labels: c.config.labels,
          annotations: c.config.annotations,
        })),
      };
    },
    ContainerStatus: (req) => {
      const c = this.#container(req.containerId);
      const image = this.#images.get(c.imageId);
      const running = c.state === 'CONTAINER_RUNNING';
      const ended = c.state === 'CONTAINER_EXITED' || c.state === 'CONTAINER_UNKNOWN';
      return {
        status: {
          id: c.id,
          metadata: c.config.metadata,
          state: c.state,
          createdAt: String(c.createdAt),
          startedAt: String(running || ended ? c.startedAt : 0n),
          finishedAt: String(ended ? c.finishedAt : 0n),
          exitCode: c.exitCode,
          image: image?.repoTags[0] ? { image: image.repoTags[0] } : c.config.image,
          imageRef: image?.repoDigests[0] ?? c.imageId,
          reason: this.#reason(c),
          message: c.message,
          labels: c.config.labels,
          annotations: c.config.annotations,
          mounts: c.config.mounts,
          logPath: c.logPath,
        },
        info: {},
      };
    },
    ExecSync: async (req) => {
      const c = this.#container(req.containerId);
      if (c.state !== 'CONTAINER_RUNNING') throw serviceError('UNKNOWN', `failed to exec in container: container is in ${c.state} state`);
      const result = c.program.exec?.(req.cmd) ?? { exitCode: 0 };
      const timeoutMs = Number(req.timeout) * 1000;
      const runsMs = result.durationMs ?? 0;
      if (runsMs > 0) await new Promise((resolve) => setTimeout(resolve, timeoutMs > 0 ? Math.min(runsMs, timeoutMs) : runsMs));
      if (timeoutMs > 0 && runsMs > timeoutMs) {
        throw serviceError('DEADLINE_EXCEEDED', `failed to exec in container: timeout ${req.timeout}s exceeded: context deadline exceeded`);
      }
      return { stdout: Buffer.from(result.stdout ?? ''), stderr: Buffer.from(result.stderr ?? ''), exitCode: result.exitCode };
    },
  };

  // ─── ImageService ──────────────────────────────────────────────────────────

  readonly #imageHandlers: Handlers<ImageServiceDefinition, ImageRpc> = {
    ImageStatus: (req) => {
      const i = this.#resolveImage(req.image?.image ?? '');
      return i ? { image: this.#imageReply(i), info: {} } : { info: {} };
    },
    ListImages: () => ({ images: [...this.#images.values()].map((i) => this.#imageReply(i)) }),
    PullImage: (req) => {
      const ref = normalizeImageRef(req.image?.image ?? '');
      const present = this.#resolveImage(ref);
      if (present) return { imageRef: present.id };
      const seed = this.#registry.get(ref);
      if (!seed) throw serviceError('UNKNOWN', `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`);
      return { imageRef: this.addImage(seed) };
    },
  };
}

type WireRequestOf<M> = M extends { requestDeserialize(bytes: Buffer): infer R } ? R : never;
type ReplyInputOf<M> = M extends { responseSerialize(value: infer R): Buffer } ? R : never;
type Handlers<D, K extends keyof D & string> = {
  [N in K]: (req: WireRequestOf<D[N]>, signal: AbortSignal | undefined) => ReplyInputOf<D[N]> | Promise<ReplyInputOf<D[N]>>;
};

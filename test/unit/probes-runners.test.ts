// The tcpSocket and grpc probes against real servers on loopback (a gRPC health server
// built on grpc-js from the same health.proto), and the exec probe through the in-memory
// runtime's ExecSync, which answers as containerd 1.6 does.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  Server as GrpcServer,
  type sendUnaryData,
  type ServerUnaryCall,
  ServerCredentials,
  status as grpcStatus,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import descriptor from '../../src/gen/grpc-health/descriptor.json' with { type: 'json' };
import { runExecProbe, probeCommand } from '../../src/probes/exec-probe.js';
import { runGrpcProbe } from '../../src/probes/grpc-probe.js';
import { dialTcp, runTcpProbe } from '../../src/probes/tcp-probe.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';

function listenTcp(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listenTcp(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('tcpSocket probe', () => {
  let server: Server;
  let port = 0;
  const accepted: Socket[] = [];
  beforeAll(async () => {
    server = createServer((socket) => {
      accepted.push(socket);
      socket.on('error', () => undefined);
    });
    port = await listenTcp(server);
  });
  afterAll(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes when it connects, and closes its connection', async () => {
    expect(await runTcpProbe({ port }, undefined, '127.0.0.1', 1000)).toEqual({ result: 'success', output: '' });
    await expect.poll(() => accepted.at(-1)?.readableEnded).toBe(true);
  });

  it('resolves a named port; the host defaults to the pod IP', async () => {
    expect((await runTcpProbe({ port: 'db' }, { name: 'c', ports: [{ name: 'db', containerPort: port }] }, '127.0.0.1', 1000)).result).toBe('success');
  });

  it('fails with Go words when nothing listens', async () => {
    const free = await freePort();
    expect(await dialTcp('127.0.0.1', free, 1000)).toEqual({ result: 'failure', output: `dial tcp 127.0.0.1:${free}: connect: connection refused` });
  });

  it('a port name that matches nothing cannot run', async () => {
    expect(await runTcpProbe({ port: 'nope' }, { name: 'c' }, '127.0.0.1', 1000)).toMatchObject({
      result: 'unknown',
      error: expect.stringContaining('"nope"'),
    });
  });
});

/** A grpc.health.v1 server whose answers the test sets; `health: false` serves no health service at all. */
async function startHealthServer(options: { health: boolean }) {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  const req = root.lookupType('grpc.health.v1.HealthCheckRequest');
  const res = root.lookupType('grpc.health.v1.HealthCheckResponse');
  const statuses = new Map<string, 'SERVING' | 'NOT_SERVING' | 'hang'>([['', 'SERVING']]);
  const seenAgents: string[] = [];
  const server = new GrpcServer();
  if (options.health) {
    const definition: ServiceDefinition = {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: object) => Buffer.from(req.encode(req.fromObject(v)).finish()),
        requestDeserialize: (b: Buffer) => req.toObject(req.decode(b)),
        responseSerialize: (v: object) => Buffer.from(res.encode(res.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => res.toObject(res.decode(b)),
      },
    };
    const impl: UntypedServiceImplementation = {
      Check: (call: ServerUnaryCall<{ service?: string }, object>, cb: sendUnaryData<object>) => {
        seenAgents.push(String(call.metadata.get('user-agent')[0]));
        const s = statuses.get(call.request.service ?? '');
        if (s === 'hang') return;
        if (!s) return cb({ code: grpcStatus.NOT_FOUND, details: 'unknown service' });
        cb(null, { status: s });
      },
    };
    server.addService(definition, impl);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, statuses, seenAgents, stop: () => server.forceShutdown() };
}

describe('grpc probe', () => {
  let health: Awaited<ReturnType<typeof startHealthServer>>;
  beforeAll(async () => {
    health = await startHealthServer({ health: true });
  });
  afterAll(() => health.stop());

  it('passes while the server says SERVING, with the upstream user agent', async () => {
    expect(await runGrpcProbe('127.0.0.1', health.port, '', 1000)).toEqual({ result: 'success', output: 'service healthy' });
    expect(health.seenAgents.at(-1)).toMatch(/^kube-probe\/1\.36 grpc-node-js\//);
  });

  it('fails on NOT_SERVING, and on a service the server does not know', async () => {
    health.statuses.set('db', 'NOT_SERVING');
    expect(await runGrpcProbe('127.0.0.1', health.port, 'db', 1000)).toEqual({ result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    expect(await runGrpcProbe('127.0.0.1', health.port, 'other', 1000)).toEqual({
      result: 'failure',
      output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
  });

  it('fails at its timeout when the health call hangs', async () => {
    health.statuses.set('slow', 'hang');
    expect(await runGrpcProbe('127.0.0.1', health.port, 'slow', 300)).toEqual({
      result: 'failure',
      output: 'timeout: health rpc did not complete within 300ms',
    });
  });

  it('fails when nothing listens, after trying for the timeout', async () => {
    const free = await freePort();
    expect(await runGrpcProbe('127.0.0.1', free, '', 300)).toEqual({
      result: 'failure',
      output: `timeout: failed to connect service "127.0.0.1:${free}" within 300ms: context deadline exceeded`,
    });
  });

  it('fails on a gRPC server without the health service', async () => {
    const bare = await startHealthServer({ health: false });
    try {
      const o = await runGrpcProbe('127.0.0.1', bare.port, '', 1000);
      expect(o.result).toBe('failure');
      expect(o.output).toMatch(/^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
    } finally {
      bare.stop();
    }
  });
});

describe('exec probe', () => {
  const rt = new InMemoryRuntime({ images: [{ ref: 'busybox' }] });
  let id = '';
  beforeAll(async () => {
    rt.program('app', {
      exec: (cmd) => {
        if (cmd[0] === 'cat')
          return cmd[1] === '/tmp/ready' ? { exitCode: 0, stdout: 'yes' } : { exitCode: 1, stderr: `cat: can't open '${cmd[1]}': No such file or directory\n` };
        if (cmd[0] === 'sleep') return { exitCode: 0, durationMs: Number(cmd[1]) * 1000 };
        return { exitCode: 0 };
      },
    });
    const sandbox = await rt.runtime.call('RunPodSandbox', { config: { metadata: { name: 'p', namespace: 'default', uid: 'u', attempt: 0 } } });
    ({ containerId: id } = await rt.runtime.call('CreateContainer', {
      podSandboxId: sandbox.podSandboxId,
      config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' } },
    }));
    await rt.runtime.call('StartContainer', { containerId: id });
  });

  it('exit 0 passes, another exit code fails with the output', async () => {
    expect(await runExecProbe(rt, id, ['cat', '/tmp/ready'], 1)).toEqual({ result: 'success', output: 'yes' });
    expect(await runExecProbe(rt, id, ['cat', '/tmp/nope'], 1)).toEqual({
      result: 'failure',
      output: "cat: can't open '/tmp/nope': No such file or directory\n",
    });
  });

  it('a command that outlives the timeout fails as upstream says', async () => {
    expect(await runExecProbe(rt, id, ['sleep', '3'], 1)).toEqual({ result: 'failure', output: 'command timed out: "sleep 3" timed out after 1s' });
  });

  it('a container that is not running: the probe could not run, with the runtime error as Go prints it', async () => {
    await rt.runtime.call('StopContainer', { containerId: id, timeout: 0 });
    expect(await runExecProbe(rt, id, ['true'], 1)).toEqual({
      result: 'unknown',
      output: '',
      error: 'rpc error: code = Unknown desc = failed to exec in container: container is in CONTAINER_EXITED state',
    });
  });

  it('expands $(VAR) from the container env values only', () => {
    const c = {
      name: 'c',
      env: [
        { name: 'FILE', value: '/tmp/ready' },
        { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    };
    expect(probeCommand(['cat', '$(FILE)', '$(SECRET)', '$$(FILE)'], c)).toEqual(['cat', '/tmp/ready', '$(SECRET)', '$(FILE)']);
  });
});

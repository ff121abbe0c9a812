// httpGet lifecycle hooks through the probes' HTTP client, against a real server on
// loopback: upstream's lifecycle User-Agent, named ports, any answer counts as run; and
// the deprecated tcpSocket hook fails as upstream's does.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifecycleHandler } from '../../src/kubelet/runtime/lifecycle-hooks.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';

const rt = new InMemoryRuntime();
const seen: IncomingMessage[] = [];
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    res.statusCode = req.url === '/broken' ? 500 : 200;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const target = { containerId: 'c1', podIP: '127.0.0.1', container: { name: 'web', ports: [{ name: 'admin', containerPort: 0 }] } };

describe('httpGet lifecycle hooks', () => {
  it('GETs the path with the lifecycle User-Agent, the port by name', async () => {
    seen.length = 0;
    const named = { ...target, container: { name: 'web', ports: [{ name: 'admin', containerPort: port }] } };
    await runLifecycleHandler(rt, { httpGet: { path: '/quit', port: 'admin' } }, named, 5);
    expect(seen.map((r) => [r.url, r.headers['user-agent']])).toEqual([['/quit', 'kube-lifecycle/1.36']]);
  });

  it('any answer means the hook ran, as upstream: a 500 is not a failure', async () => {
    await expect(runLifecycleHandler(rt, { httpGet: { path: '/broken', port } }, target, 5)).resolves.toBeUndefined();
  });

  it('no answer is a failure naming the path and the connection error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(runLifecycleHandler(rt, { httpGet: { path: '/quit', port: free } }, target, 5)).rejects.toThrow(
      `HTTP lifecycle hook (/quit) for Container in Pod failed - error: Get "http://127.0.0.1:${free}/quit": dial tcp 127.0.0.1:${free}: connect: connection refused`,
    );
  });

  it('a tcpSocket hook fails, as upstream never ran one', async () => {
    await expect(runLifecycleHandler(rt, { tcpSocket: { port } }, target, 5)).rejects.toThrow(
      'Cannot run handler: invalid handler: tcpSocket is not supported as a lifecycle handler',
    );
  });
});

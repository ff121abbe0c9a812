// A Listen (src/proxy/server/http-servers.ts) that binds inside a network namespace: a
// helper process in the namespace opens the socket and passes it over IPC, and the HTTP
// server runs here. So the proxy's servers (healthz, metrics, health-check ports) can be
// tested in-process, on the node namespace's addresses.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import type { Listen } from '../../src/proxy/server/http-servers.js';

const helper = resolve(import.meta.dirname, 'netns-listener.mjs');

export interface NetnsListen {
  listen: Listen;
  close(): Promise<void>;
}

export async function netnsListen(ns: string): Promise<NetnsListen> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, helper], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolveReady, reject) => {
    child.once('message', () => resolveReady());
    child.once('exit', (code) => reject(new Error(`netns listener helper exited with ${code}`)));
  });
  let next = 0;
  const listen: Listen = (host, port, handler) =>
    new Promise((resolveServer, reject) => {
      const id = next++;
      const onMessage = (msg: { id: number; ok?: boolean; error?: string }, handle?: NetServer) => {
        if (msg.id !== id) return;
        child.off('message', onMessage);
        if (msg.error || !handle) return reject(new Error(`listen ${host}:${port} in ${ns}: ${msg.error ?? 'no handle'}`));
        const server = createServer(handler);
        server.listen(handle, () => resolveServer(server));
      };
      child.on('message', onMessage);
      child.send({ id, host, port });
    });
  return {
    listen,
    close: () =>
      new Promise((resolveClose) => {
        if (child.exitCode !== null) return resolveClose();
        child.once('exit', () => resolveClose());
        child.kill('SIGKILL');
      }),
  };
}

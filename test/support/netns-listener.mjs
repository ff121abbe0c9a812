// Run inside a network namespace with an IPC channel: binds TCP listeners on request and
// hands them to the parent process, which serves on them from its own namespace.
//   parent → { id, host, port }    child → ({ id, ok } | { id, error }), with the server handle
import { createServer } from 'node:net';

process.on('message', (msg) => {
  const server = createServer({ pauseOnConnect: true });
  server.once('error', (err) => process.send({ id: msg.id, error: err.message }));
  server.listen({ host: msg.host, port: msg.port, ipv6Only: msg.host.includes(':') }, () => {
    process.send({ id: msg.id, ok: true }, server, () => server.close());
  });
});
process.send({ ready: true });

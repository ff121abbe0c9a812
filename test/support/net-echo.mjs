// A tiny server and client for traffic tests in network namespaces (plain JavaScript:
// Node runs it directly inside `ip netns exec`).
//
//   node net-echo.mjs serve NAME TCP_PORTS UDP_PORTS   answers "NAME CLIENT_ADDRESS" on each port; prints "ready"
//   node net-echo.mjs ask HOST PORT tcp|udp COUNT [SOURCE_PORT] [TIMEOUT_MS]
//                                                      prints {"answers":[...],"errors":[...]} as JSON
import { createSocket } from 'node:dgram';
import { connect, createServer, isIPv6 } from 'node:net';

const [mode, ...args] = process.argv.slice(2);

function serve(name, tcpPorts, udpPorts) {
  let pending = 0;
  const ready = () => {
    if (--pending === 0) console.log('ready');
  };
  for (const port of tcpPorts) {
    pending++;
    const server = createServer((socket) => {
      const who = socket.remoteAddress?.replace(/^::ffff:/, '') ?? '?';
      socket.end(`${name} ${who}\n`);
      socket.on('error', () => {});
    });
    server.listen({ port, host: '::', ipv6Only: false }, ready);
  }
  for (const port of udpPorts) {
    pending++;
    const socket = createSocket({ type: 'udp6', ipv6Only: false });
    socket.on('message', (_msg, rinfo) => socket.send(`${name} ${rinfo.address.replace(/^::ffff:/, '')}\n`, rinfo.port, rinfo.address));
    socket.bind(port, '::', ready);
  }
  if (pending === 0) console.log('ready');
}

function askTcp(host, port, timeoutMs, sourcePort) {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect({ host, port, ...(sourcePort ? { localPort: sourcePort } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: 'ETIMEDOUT' });
    }, timeoutMs);
    socket.on('data', (c) => (data += c));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve({ answer: data.trim() });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.code ?? err.message });
    });
  });
}

function askUdp(socket, host, port, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      socket.off('error', onError);
      resolve({ error: 'ETIMEDOUT' });
    }, timeoutMs);
    const onMessage = (msg) => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve({ answer: msg.toString().trim() });
    };
    const onError = (err) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve({ error: err.code ?? err.message });
    };
    socket.once('message', onMessage);
    socket.once('error', onError);
    socket.send('?', port, host);
  });
}

async function ask(host, port, proto, count, sourcePort, timeoutMs) {
  const answers = [];
  const errors = [];
  let udp;
  if (proto === 'udp') {
    udp = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise((resolve) => udp.bind(sourcePort || 0, resolve));
  }
  for (let i = 0; i < count; i++) {
    // A fixed TCP source port would collide with its own TIME_WAIT; only UDP reuses it.
    const r = proto === 'udp' ? await askUdp(udp, host, port, timeoutMs) : await askTcp(host, port, timeoutMs, sourcePort);
    if (r.answer !== undefined) answers.push(r.answer);
    else errors.push(r.error);
  }
  udp?.close();
  console.log(JSON.stringify({ answers, errors }));
}

const list = (s) => (s ? s.split(',').filter(Boolean).map(Number) : []);
if (mode === 'serve') serve(args[0], list(args[1]), list(args[2]));
else if (mode === 'ask') await ask(args[0], Number(args[1]), args[2], Number(args[3] ?? 1), Number(args[4] ?? 0), Number(args[5] ?? 2000));
else {
  console.error('usage: net-echo.mjs serve NAME TCP_PORTS UDP_PORTS | ask HOST PORT tcp|udp COUNT [SOURCE_PORT] [TIMEOUT_MS]');
  process.exit(2);
}

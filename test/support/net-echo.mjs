// A tiny server and client for traffic tests in network namespaces (plain JavaScript:
// Node runs it directly inside `ip netns exec`).
//
//   node net-echo.mjs serve NAME TCP_PORTS UDP_PORTS   answers "NAME CLIENT_ADDRESS" on each port; prints "ready"
//   node net-echo.mjs ask HOST PORT tcp|udp COUNT [SOURCE_PORT] [TIMEOUT_MS]
//                                                      prints {"answers":[...],"errors":[...]} as JSON
//   node net-echo.mjs hold HOST PORT                   one TCP connection kept open: sends a line every 100 ms,
//                                                      prints "ready NAME" on the first answer and, at SIGTERM,
//                                                      {"sent":N,"answered":N,"names":[...],"error":...} as JSON
// A "serve" TCP port answers a connection that sends "hold" by echoing every line it gets.
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
      socket.on('error', () => {});
      socket.once('data', (first) => {
        if (!first.toString().startsWith('hold')) return;
        clearTimeout(plain);
        socket.write(`${name}\n`);
        socket.on('data', (c) => socket.write(`${name} ${c.toString().trim()}\n`));
      });
      // A client that says nothing gets one answer and the end of the connection.
      const plain = setTimeout(() => socket.end(`${name} ${who}\n`), 30);
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

function hold(host, port) {
  let sent = 0;
  let answered = 0;
  let error;
  const names = new Set();
  const socket = connect({ host, port }, () => socket.write('hold\n'));
  let buffer = '';
  socket.on('data', (c) => {
    buffer += c;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const name = line.split(' ')[0];
      if (names.size === 0) console.log(`ready ${name}`);
      names.add(name);
      if (line.includes(' ')) answered++;
    }
  });
  socket.on('error', (err) => (error = err.code ?? err.message));
  socket.on('close', () => (error ??= 'closed'));
  const timer = setInterval(() => {
    if (error) return;
    sent++;
    socket.write(`${sent}\n`);
  }, 100);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    console.log(JSON.stringify({ sent, answered, names: [...names], error: error ?? null }));
    process.exit(0);
  });
}

const list = (s) => (s ? s.split(',').filter(Boolean).map(Number) : []);
if (mode === 'serve') serve(args[0], list(args[1]), list(args[2]));
else if (mode === 'hold') hold(args[0], Number(args[1]));
else if (mode === 'ask') await ask(args[0], Number(args[1]), args[2], Number(args[3] ?? 1), Number(args[4] ?? 0), Number(args[5] ?? 2000));
else {
  console.error('usage: net-echo.mjs serve NAME TCP_PORTS UDP_PORTS | ask HOST PORT tcp|udp COUNT [SOURCE_PORT] [TIMEOUT_MS]');
  process.exit(2);
}

export { Channel, decodeChannelMessage, encodeChannelClose, encodeChannelData, encodeTerminalSize, websocketProtocols } from './channel-frame.js';
export { parseExitStatus, type ExitStatus } from './exec-status.js';
export { defaultTransport, streamTransports, type RemoteCommandStreams, type StreamTransport, type TerminalSize, type Writer } from './remote-command.js';
export { streamRemoteCommand } from './stream-remote-command.js';
export { websocketRemoteCommand } from './websocket-remote-command.js';
export { spdyRemoteCommand } from './spdy-remote-command.js';
export { forwardPorts, forwardConnection, parsePortMapping, type PortMapping } from './port-forward.js';

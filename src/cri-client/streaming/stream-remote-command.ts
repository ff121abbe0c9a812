import type { ExitStatus } from './exec-status.js';
import { defaultTransport, type RemoteCommandStreams, type StreamTransport } from './remote-command.js';
import { spdyRemoteCommand } from './spdy-remote-command.js';
import { websocketRemoteCommand } from './websocket-remote-command.js';

/** Runs an exec/attach session at a streaming URL over the chosen (or default) transport. */
export function streamRemoteCommand(url: string, streams: RemoteCommandStreams, transport?: StreamTransport): Promise<ExitStatus> {
  const chosen = transport ?? defaultTransport(streams);
  return chosen === 'spdy' ? spdyRemoteCommand(url, streams) : websocketRemoteCommand(url, streams);
}

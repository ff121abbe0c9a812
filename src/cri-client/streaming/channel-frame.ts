/**
 * The websocket framing of the Kubernetes streaming protocols (`channel.k8s.io` and its
 * `v4.`/`v5.` versions): every binary message starts with one byte naming the channel.
 * v5 adds one control message, [255, channel], which half-closes that channel (how a
 * client says "stdin is done"); earlier versions have no way to say it.
 */

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

/** The channel byte of the v5 close signal. */
export const closeSignal = 255;

export type ChannelMessage = { kind: 'data'; channel: number; data: Buffer } | { kind: 'close'; channel: number };

export function encodeChannelData(channel: number, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(data.length + 1);
  frame[0] = channel;
  frame.set(data, 1);
  return frame;
}

export function encodeChannelClose(channel: number): Buffer {
  return Buffer.from([closeSignal, channel]);
}

/** Decodes one websocket message; an empty message carries nothing and gives undefined. */
export function decodeChannelMessage(message: Uint8Array): ChannelMessage | undefined {
  if (message.length === 0) return undefined;
  const channel = message[0] as number;
  if (channel === closeSignal) {
    if (message.length < 2) return undefined;
    return { kind: 'close', channel: message[1] as number };
  }
  return { kind: 'data', channel, data: Buffer.from(message.buffer, message.byteOffset + 1, message.length - 1) };
}

/** The resize message of every protocol version: the JSON kubelet's TerminalSize decodes. */
export function encodeTerminalSize(size: { columns: number; rows: number }): Buffer {
  return Buffer.from(JSON.stringify({ Width: size.columns, Height: size.rows }));
}

export const websocketProtocols = {
  v5: 'v5.channel.k8s.io',
  v4: 'v4.channel.k8s.io',
  v1: 'channel.k8s.io',
} as const;

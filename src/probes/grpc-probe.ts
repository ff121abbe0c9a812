/*
 * A grpc probe: grpc.health.v1.Health/Check on the pod IP and the probe's port, with the
 * probe's `service`, over a connection of its own (plaintext, as upstream: probes have no
 * credentials), within the probe's timeout. SERVING passes; anything else fails, worded as
 * upstream's prober words it. The messages come from proto/grpc-health/health.proto
 * (generated into src/gen/grpc-health by `npm run gen`).
 */
import { Client, credentials, Metadata, type ServiceError, status as grpcStatus } from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import descriptor from '../gen/grpc-health/descriptor.json' with { type: 'json' };
import type { HealthCheckResponse__Output } from '../gen/grpc-health/grpc/health/v1/HealthCheckResponse.js';
import { formatGoDuration } from '../common/go-duration.js';
import { goCodeName } from './exec-probe.js';
import { probeUserAgent } from './http-request.js';
import { joinHostPort } from './net-error.js';
import { failure, type ProbeOutcome, success } from './probe-outcome.js';

const checkPath = '/grpc.health.v1.Health/Check';
let codec: { encode(service: string): Buffer; decode(bytes: Buffer): HealthCheckResponse__Output } | undefined;

function healthCodec(): NonNullable<typeof codec> {
  if (codec) return codec;
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  const req = root.lookupType('grpc.health.v1.HealthCheckRequest');
  const res = root.lookupType('grpc.health.v1.HealthCheckResponse');
  codec = {
    encode: (service) => Buffer.from(req.encode(req.fromObject({ service })).finish()),
    decode: (bytes) => res.toObject(res.decode(bytes), { enums: String, defaults: true }) as HealthCheckResponse__Output,
  };
  return codec;
}

export async function runGrpcProbe(host: string, port: number, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const address = joinHostPort(host, port);
  const deadline = Date.now() + timeoutMs;
  const timeout = formatGoDuration(timeoutMs);
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.primary_user_agent': probeUserAgent,
    // A connection of the probe's own, gone with it: a server that died is not hidden by a shared one.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  });
  const onAbort = () => client.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const connected = await new Promise<boolean>((resolve) => client.waitForReady(deadline, (err) => resolve(err === undefined)));
    if (!connected) return failure(`timeout: failed to connect service ${JSON.stringify(address)} within ${timeout}: context deadline exceeded`);
    const { encode, decode } = healthCodec();
    const reply = await new Promise<{ ok: true; value: HealthCheckResponse__Output } | { ok: false; err: ServiceError }>((resolve) => {
      client.makeUnaryRequest(
        checkPath,
        (s: string) => encode(s),
        decode,
        service,
        new Metadata(),
        { deadline },
        (err, value) => resolve(err || !value ? { ok: false, err: err ?? unknownError() } : { ok: true, value }),
      );
    });
    if (!reply.ok) {
      const { code, details } = reply.err;
      if (code === grpcStatus.UNIMPLEMENTED)
        return failure(`error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${details}`);
      if (code === grpcStatus.DEADLINE_EXCEEDED) return failure(`timeout: health rpc did not complete within ${timeout}`);
      return failure(`error: health rpc probe failed: rpc error: code = ${goCodeName(code)} desc = ${details}`);
    }
    if (reply.value.status !== 'SERVING') return failure(`service unhealthy (responded with ${JSON.stringify(reply.value.status)})`);
    return success('service healthy');
  } finally {
    signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}

function unknownError(): ServiceError {
  return Object.assign(new Error('no reply'), { code: grpcStatus.UNKNOWN, details: 'no reply', metadata: new Metadata() });
}

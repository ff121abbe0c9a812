import type { IntOrString, V1Container } from '@kubernetes/client-node';

export type PortResolution = { ok: true; port: number } | { ok: false; message: string };

/**
 * A probe's or hook's port: a number, or a name looked up in the container's ports (a name
 * that is a number in disguise, "8080", also works, as upstream's Atoi fallback makes it).
 */
export function resolveContainerPort(port: IntOrString | undefined, container: V1Container | undefined): PortResolution {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string' && port !== '') {
    const named = container?.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else
      return {
        ok: false,
        message: `port ${JSON.stringify(port)} is not a number and no port of container ${JSON.stringify(container?.name ?? '')} has that name`,
      };
  } else return { ok: false, message: 'no port given' };
  if (Number.isInteger(n) && n > 0 && n < 65536) return { ok: true, port: n };
  return { ok: false, message: `invalid port number: ${n}` };
}

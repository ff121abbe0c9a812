import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { criDefinitions } from '../../src/cri-client/descriptor.js';

type AnyDefinition = Record<
  string,
  {
    path: string;
    responseStream: boolean;
    requestSerialize: (v: object) => Buffer;
    requestDeserialize: (b: Buffer) => unknown;
    responseSerialize: (v: object) => Buffer;
    responseDeserialize: (b: Buffer) => unknown;
  }
>;

describe('CRI method definitions (built per RPC from the types it uses)', () => {
  const { runtime, image } = criDefinitions() as unknown as { runtime: AnyDefinition; image: AnyDefinition };

  it('cover every RPC of runtime.v1, with paths and streaming flags from the .proto', () => {
    const proto = readFileSync(join(import.meta.dirname, '../../proto/cri/api.proto'), 'utf8');
    const rpcs = (service: string) =>
      [...(new RegExp(`service ${service} \\{([\\s\\S]*?)\\n\\}`).exec(proto)?.[1] ?? '').matchAll(/rpc (\w+)\(/g)].map((m) => m[1]);
    expect(Object.keys(runtime).sort()).toEqual(rpcs('RuntimeService').sort());
    expect(Object.keys(image).sort()).toEqual(rpcs('ImageService').sort());
    expect(rpcs('RuntimeService')).toHaveLength(35);
    expect(runtime['Version']?.path).toBe('/runtime.v1.RuntimeService/Version');
    expect(image['PullImage']?.path).toBe('/runtime.v1.ImageService/PullImage');
    expect(runtime['GetContainerEvents']?.responseStream).toBe(true);
    expect(runtime['ListContainers']?.responseStream).toBe(false);
  });

  it('encode and decode every request and reply type', () => {
    for (const [name, def] of Object.entries({ ...runtime, ...image })) {
      expect(() => def.requestDeserialize(def.requestSerialize({})), name).not.toThrow();
      expect(def.responseDeserialize(def.responseSerialize({})), name).toBeTypeOf('object');
    }
  });

  it('keep deep and nested types (SecurityProfile.ProfileType) and exact int64', () => {
    const def = runtime['CreateContainer']!;
    const wire = def.requestSerialize({
      podSandboxId: 'p',
      config: {
        linux: { resources: { memoryLimitInBytes: '9007199254740993' }, securityContext: { seccomp: { profileType: 'Localhost', localhostRef: 'x.json' } } },
      },
    });
    const back = def.requestDeserialize(wire) as {
      config: { linux: { resources: { memoryLimitInBytes: string }; securityContext: { seccomp: { profileType: string; localhostRef: string } } } };
    };
    expect(back.config.linux.resources.memoryLimitInBytes).toBe('9007199254740993');
    expect(back.config.linux.securityContext.seccomp).toMatchObject({ profileType: 'Localhost', localhostRef: 'x.json' });
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criDefinitions } from '../../src/cri-client/descriptor.js';
import { loadContainerConfig, loadPodConfig, parseContainerConfig, parsePodConfig } from '../../src/cli/crictl/lifecycle/config-files.js';
import { camelCase } from '../../src/cli/crictl/lifecycle/cri-message-json.js';

const fixtures = join(import.meta.dirname, '../fixtures/crictl');
const pod = (body: unknown) => parsePodConfig(JSON.stringify(body), 'pod.json');
const container = (body: unknown) => parseContainerConfig(JSON.stringify(body), 'ctr.json');
const meta = { name: 'p', namespace: 'ns' };

describe('crictl config files: the example fixtures', () => {
  it('reads the pod config in crictl format (snake_case) and fills in a uid', async () => {
    const config = await loadPodConfig(join(fixtures, 'pod-config.json'));
    expect(config.metadata?.name).toBe('busybox-sandbox');
    expect(config.metadata?.namespace).toBe('default');
    expect(config.metadata?.attempt).toBe(1);
    expect(config.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(config.logDirectory).toBe('/tmp/tskube-crictl-example');
    expect(config.labels).toEqual({ app: 'busybox-example' });
  });

  it('gives every load of the same uid-less file a fresh uid', async () => {
    const a = await loadPodConfig(join(fixtures, 'pod-config.json'));
    const b = await loadPodConfig(join(fixtures, 'pod-config.json'));
    expect(a.metadata?.uid).not.toBe(b.metadata?.uid);
  });

  it('reads the container config: image, command, env values as text, log path', async () => {
    const config = await loadContainerConfig(join(fixtures, 'container-config.json'));
    expect(config.metadata?.name).toBe('busybox');
    expect(config.image?.image).toBe('localhost/tskube/busybox:latest');
    expect(config.image?.userSpecifiedImage).toBe('localhost/tskube/busybox:latest');
    expect(config.command).toEqual(['sleep', '3600']);
    expect(config.logPath).toBe('busybox.0.log');
    const env = config.envs?.[0];
    expect(env?.key).toBe('GREETING');
    expect(Buffer.from(env?.value as Buffer).toString('utf8')).toBe('hello');
  });

  it('produces requests the CRI serializer accepts and round-trips', async () => {
    const defs = criDefinitions();
    const podConfig = await loadPodConfig(join(fixtures, 'pod-config.json'));
    const config = await loadContainerConfig(join(fixtures, 'container-config.json'));
    const create = defs.runtime.CreateContainer;
    const bytes = create.requestSerialize({ podSandboxId: 'x', config, sandboxConfig: podConfig });
    const back = create.requestDeserialize(bytes);
    expect(back.config?.command).toEqual(['sleep', '3600']);
    expect(back.sandboxConfig?.logDirectory).toBe('/tmp/tskube-crictl-example');
    expect(Buffer.from(back.config?.envs[0]?.value as Buffer).toString()).toBe('hello');
  });
});

describe('crictl config files: key spelling and value types', () => {
  it('reads camelCase and snake_case keys alike', async () => {
    const snake = await pod({
      metadata: meta,
      log_directory: '/l',
      port_mappings: [{ container_port: 80, host_port: '8080', protocol: 'UDP' }],
      dns_config: { servers: ['1.1.1.1'] },
    });
    const camel = await pod({
      metadata: meta,
      logDirectory: '/l',
      portMappings: [{ containerPort: 80, hostPort: '8080', protocol: 'UDP' }],
      dnsConfig: { servers: ['1.1.1.1'] },
    });
    const strip = (c: typeof snake) => ({ ...c, metadata: { ...c.metadata, uid: '' } });
    expect(strip(snake)).toEqual(strip(camel));
    expect(snake.portMappings?.[0]).toEqual({ containerPort: 80, hostPort: 8080, protocol: 'UDP' });
  });

  it('keeps int64 values as exact decimal strings and accepts enum numbers', async () => {
    const c = await container({
      metadata: { name: 'c' },
      image: { image: 'i' },
      linux: { resources: { memory_limit_in_bytes: 67108864, cpu_quota: '9007199254740993' } },
      stop_signal: 15,
    });
    expect(c.linux?.resources?.memoryLimitInBytes).toBe('67108864');
    expect(c.linux?.resources?.cpuQuota).toBe('9007199254740993');
    expect(typeof c.stopSignal).toBe('string');
  });

  it('reads YAML as well as JSON', async () => {
    const c = await parseContainerConfig('metadata:\n  name: c\nimage:\n  image: busybox\nargs: [a, b]\ntty: true\n', 'ctr.yaml');
    expect(c.args).toEqual(['a', 'b']);
    expect(c.tty).toBe(true);
  });

  it('treats null as not set, as protojson does', async () => {
    const p = await pod({ metadata: meta, linux: null, labels: { a: null } });
    expect(p.linux).toBeUndefined();
    expect(p.labels).toEqual({});
  });

  it('maps .proto names with capitals to protojson names', () => {
    expect(camelCase('CDI_devices')).toBe('CDIDevices');
    expect(camelCase('memory_limit_in_bytes')).toBe('memoryLimitInBytes');
  });
});

describe('crictl config files: bad input names the field and the value', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a wrong scalar type', { metadata: { ...meta, attempt: 'one' } }, /^invalid-argument: pod\.json: metadata\.attempt: want an integer, got "one"$/],
    ['a string where a list goes', { metadata: meta, port_mappings: 'all' }, /pod\.json: port_mappings: want a list, got "all"/],
    [
      'a bad value deep in a list',
      { metadata: meta, port_mappings: [{ container_port: 80 }, { container_port: 'eighty' }] },
      /port_mappings\[1\]\.container_port: want an integer, got "eighty"/,
    ],
    [
      'an unknown enum name',
      { metadata: meta, port_mappings: [{ protocol: 'XTCP' }] },
      /port_mappings\[0\]\.protocol: want a Protocol \(TCP, UDP, SCTP\), got "XTCP"/,
    ],
    ['an out-of-range int32', { metadata: meta, port_mappings: [{ container_port: 4294967296 }] }, /container_port: 4294967296 is out of range for int32/],
    ['a negative unsigned value', { metadata: { ...meta, attempt: -1 } }, /metadata\.attempt: want a non-negative integer, got -1/],
    ['a misspelt field', { metdata: meta }, /pod\.json: metdata: unknown field \(known fields: metadata, hostname/],
    ['a label that is not a string', { metadata: meta, labels: { n: 1 } }, /labels\["n"\]: want a string, got 1/],
    ['a field given twice', { metadata: meta, log_directory: '/a', logDirectory: '/b' }, /logDirectory: given twice, also as "log_directory"/],
    [
      'a boolean as text',
      { metadata: meta, linux: { security_context: { privileged: 'yes' } } },
      /linux\.security_context\.privileged: want true or false, got "yes"/,
    ],
  ];
  for (const [what, body, message] of cases) {
    it(`rejects ${what}`, async () => {
      await expect(pod(body)).rejects.toThrow(message);
    });
  }

  it('rejects a pod without metadata, metadata.name or metadata.namespace', async () => {
    await expect(pod({ hostname: 'h' })).rejects.toThrow(/pod\.json: metadata is not set/);
    await expect(pod({ metadata: { namespace: 'ns' } })).rejects.toThrow(/pod\.json: metadata\.name is not set/);
    await expect(pod({ metadata: { name: 'p' } })).rejects.toThrow(/pod\.json: metadata\.namespace is not set/);
  });

  it('rejects a container without metadata.name or image.image', async () => {
    await expect(container({ image: { image: 'i' } })).rejects.toThrow(/ctr\.json: metadata is not set/);
    await expect(container({ metadata: {}, image: { image: 'i' } })).rejects.toThrow(/ctr\.json: metadata\.name is not set/);
    await expect(container({ metadata: { name: 'c' } })).rejects.toThrow(/ctr\.json: image\.image is not set/);
  });

  it('rejects a file that is not a mapping, is empty, or does not parse', async () => {
    await expect(parsePodConfig('[1, 2]', 'pod.json')).rejects.toThrow(/pod\.json: the file: want a mapping of fields, got \[1,2\]/);
    await expect(parsePodConfig('', 'pod.json')).rejects.toThrow(/pod\.json: the file is empty/);
    await expect(parsePodConfig('{"metadata": {', 'pod.json')).rejects.toThrow(/^invalid-argument: pod\.json: not valid JSON or YAML: /);
  });

  describe('files on disk', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tskube-config-files-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('says which file is missing', async () => {
      await expect(loadPodConfig(join(dir, 'nope.json'))).rejects.toThrow(/^not-found: pod config file .*nope\.json not found$/);
    });

    it('starts the error with the path of the bad file', async () => {
      const path = join(dir, 'container.yaml');
      const text = (await readFile(join(fixtures, 'container-config.json'), 'utf8')).replace('"sleep", "3600"', '"sleep", 3600');
      await writeFile(path, text);
      await expect(loadContainerConfig(path)).rejects.toThrow(`${path}: command[1]: want a string, got 3600`);
    });
  });
});

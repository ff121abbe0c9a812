// The pieces of the upstream static pod UID: FNV-128a, go-spew's text, Go's internal
// form of a quantity and the v1 defaults. The expected strings were printed by the
// upstream code (hash/fnv, k8s.io/utils/dump.ForHash over resource.MustParse, before
// and after RoundUp(-3)); test/integration/static-pod-uid-parity.test.ts compares
// whole pods with upstream's file source.
import { describe, expect, it } from 'vitest';
import { fnv128a } from '../../src/common/fnv.js';
import { type SpewSchema, spewPointerForHash } from '../../src/kubelet/pods/sources/go-spew.js';
import { applyPodDefaults } from '../../src/kubelet/pods/sources/pod-defaults.js';
import { upstreamStaticPodUid } from '../../src/kubelet/pods/sources/static-pod-uid.js';

const schema: SpewSchema = {
  types: {
    T: {
      kind: 'struct',
      fields: [
        ['Q', 'q', 'resource.Quantity'],
        ['L', 'l', 'core.ResourceList'],
        ['P', 'p', '*int64'],
        ['S', 's', '[]string'],
        ['M', 'm', 'map[string]string'],
        ['Inline', '', 'U'],
        ['Port', 'port', 'intstr.IntOrString'],
        ['Hidden', null, 'string'],
      ],
    },
    U: { kind: 'struct', fields: [['B', 'b', 'bool']] },
    'resource.Quantity': { kind: 'quantity' },
    'core.ResourceList': { kind: 'map', elem: 'resource.Quantity' },
    '*int64': { kind: 'ptr', elem: 'int64' },
    int64: { kind: 'int' },
    '[]string': { kind: 'slice', elem: 'string' },
    'map[string]string': { kind: 'map', elem: 'string' },
    string: { kind: 'string' },
    bool: { kind: 'bool' },
    'intstr.IntOrString': { kind: 'intOrString' },
  },
  milliRoundedMaps: new Set(['core.ResourceList']),
};

const quantityField = (text: unknown) => {
  const out = spewPointerForHash(schema, 'T', { q: text });
  return out.slice(out.indexOf('Q:') + 2, out.indexOf(' L:'));
};
const roundedInList = (text: unknown) => {
  const out = spewPointerForHash(schema, 'T', { l: { cpu: text } });
  return out.slice(out.indexOf('cpu:') + 4, out.indexOf('] P:'));
};

const parsed: Record<string, string> = {
  '100m':
    '{i:(resource.int64Amount){value:(int64)100 scale:(resource.Scale)-3} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)100m Format:(resource.Format)DecimalSI}',
  '0.1':
    '{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)-1} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)DecimalSI}',
  '1e3':
    '{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)3} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1e3 Format:(resource.Format)DecimalExponent}',
  '1.5Gi':
    '{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false abs:(big.nat)[1610612736000000000]} scale:(inf.Scale)9}} s:(string) Format:(resource.Format)BinarySI}',
  '100n':
    '{i:(resource.int64Amount){value:(int64)100 scale:(resource.Scale)-9} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)100n Format:(resource.Format)DecimalSI}',
  '1Gi':
    '{i:(resource.int64Amount){value:(int64)1073741824 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1Gi Format:(resource.Format)BinarySI}',
  '1000Mi':
    '{i:(resource.int64Amount){value:(int64)1048576000 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)BinarySI}',
  '129M':
    '{i:(resource.int64Amount){value:(int64)129 scale:(resource.Scale)6} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)129M Format:(resource.Format)DecimalSI}',
  '0': '{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)0 Format:(resource.Format)DecimalSI}',
  '-1.5':
    '{i:(resource.int64Amount){value:(int64)-15 scale:(resource.Scale)-1} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)DecimalSI}',
  '12345678901234567890':
    '{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false abs:(big.nat)[5097733592002180096 669260594]} scale:(inf.Scale)9}} s:(string) Format:(resource.Format)DecimalSI}',
};
const rounded: Record<string, string> = {
  '100n':
    '{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)-3} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)DecimalSI}',
  '0.0001':
    '{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)-3} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)DecimalSI}',
  '1.5Gi':
    '{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false abs:(big.nat)[1610612736000]} scale:(inf.Scale)3}} s:(string) Format:(resource.Format)BinarySI}',
  '12345678901234567890':
    '{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false abs:(big.nat)[4807115922877858896 669]} scale:(inf.Scale)3}} s:(string) Format:(resource.Format)DecimalSI}',
  '100m': parsed['100m']!,
};

describe('the static pod UID as upstream computes it', () => {
  it('FNV-128a as Go computes it', () => {
    expect(fnv128a('')).toBe('6c62272e07bb014262b821756295c58d');
    expect(fnv128a('a')).toBe('d228cb696f1a8caf78912b704e4a8964');
    expect(fnv128a('host:', 'node-1')).toBe('3a777e3cfdf9dc0d3c3da432287b9565');
  });

  it("holds each quantity spelling as Go's resource.Quantity does", () => {
    for (const [text, want] of Object.entries(parsed)) expect(`${text} ${quantityField(text)}`).toBe(`${text} (resource.Quantity)${want}`);
    // An unset quantity is the zero value, Format and text empty.
    expect(quantityField(undefined)).toBe(
      '(resource.Quantity){i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)}',
    );
  });

  it('rounds resource list values up to milli scale, as the defaults do', () => {
    for (const [text, want] of Object.entries(rounded)) expect(`${text} ${roundedInList(text)}`).toBe(`${text} ${want}`);
  });

  it("prints pointers, nil and empty collections, sorted maps, inline and JSON-less fields as go-spew's %#v", () => {
    expect(spewPointerForHash(schema, 'T', { p: 30, s: [], m: { b: '2', a: '1', É: '3' }, b: true, port: 'http' })).toBe(
      '(*T){Q:(resource.Quantity){i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)} ' +
        'L:(core.ResourceList)<nil> P:(*int64)30 S:([]string)[] M:(map[string]string)map[a:1 b:2 É:3] Inline:(U){B:(bool)true} ' +
        'Port:(intstr.IntOrString){Type:(intstr.Type)1 IntVal:(int32)0 StrVal:(string)http} Hidden:(string)}',
    );
    expect(spewPointerForHash(schema, 'T', { p: null, s: ['x', 'y z'], port: 8080 })).toContain(
      'P:(*int64)<nil> S:([]string)[x y z] M:(map[string]string)<nil> Inline:(U){B:(bool)false} Port:(intstr.IntOrString){Type:(intstr.Type)0 IntVal:(int32)8080 StrVal:(string)}',
    );
  });

  it('applies the v1 defaults upstream applies before hashing', () => {
    const pod: Record<string, unknown> = {
      spec: {
        hostNetwork: true,
        volumes: [{ name: 'v' }, { name: 'h', hostPath: { path: '/x' } }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            ports: [{ containerPort: 80 }],
            resources: { limits: { cpu: '1' } },
            readinessProbe: { httpGet: { port: 80 } },
          },
        ],
      },
    };
    applyPodDefaults(pod);
    expect(pod).toEqual({
      spec: {
        hostNetwork: true,
        enableServiceLinks: true,
        dnsPolicy: 'ClusterFirst',
        restartPolicy: 'Always',
        securityContext: {},
        terminationGracePeriodSeconds: 30,
        schedulerName: 'default-scheduler',
        volumes: [
          { name: 'v', emptyDir: {} },
          { name: 'h', hostPath: { path: '/x', type: '' } },
        ],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            imagePullPolicy: 'Always',
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            ports: [{ containerPort: 80, hostPort: 80, protocol: 'TCP' }],
            resources: { limits: { cpu: '1' }, requests: { cpu: '1' } },
            readinessProbe: {
              httpGet: { port: 80, path: '/', scheme: 'HTTP' },
              timeoutSeconds: 1,
              periodSeconds: 10,
              successThreshold: 1,
              failureThreshold: 3,
            },
          },
        ],
      },
    });
  });

  it('gives no UID for a pod it cannot hash as upstream (a set timestamp), so the caller falls back', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { containers: [] } };
    expect(upstreamStaticPodUid(pod, 'n', '/f')).toBeUndefined();
    expect(upstreamStaticPodUid({ ...pod, metadata: { name: 'x' } }, 'n', '/f')).toMatch(/^[0-9a-f]{32}$/);
  });
});

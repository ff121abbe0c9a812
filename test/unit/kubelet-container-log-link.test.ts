import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerLogLinkPath } from '../../src/kubelet/runtime/container-log-link.js';

describe('containerLogLinkPath', () => {
  it('names the link <pod>_<namespace>_<container>-<id>.log, as upstream does', () => {
    expect(containerLogLinkPath('/var/log/containers', 'web-0', 'shop', 'nginx', 'abc123')).toBe('/var/log/containers/web-0_shop_nginx-abc123.log');
  });

  it('cuts a long name to 255 bytes, keeping the .log suffix', () => {
    const name = basename(containerLogLinkPath('/var/log/containers', 'p'.repeat(120), 'n'.repeat(60), 'c'.repeat(60), 'f'.repeat(64)));
    expect(name).toHaveLength(255);
    expect(name.endsWith('.log')).toBe(true);
  });
});

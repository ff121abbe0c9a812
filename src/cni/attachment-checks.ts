// The attachment parameters libcni refuses before running anything (its utils package):
// a container ID and an interface name a plugin can use.
import { TskubeError } from '../common/errors.js';
import { cniNamePattern } from './config/parse-network-config.js';
import type { AttachmentKey } from './network-config.js';

/** Linux's IFNAMSIZ less the terminating NUL. */
const maxInterfaceNameLength = 15;

export function checkAttachmentKey(key: AttachmentKey): void {
  if (!key.containerId) throw new TskubeError('invalid-argument', 'container ID: missing');
  if (!cniNamePattern.test(key.containerId)) {
    throw new TskubeError('invalid-argument', `container ID "${key.containerId}": letters, digits, "_", "." and "-" only, a letter or digit first`);
  }
  const ifName = key.ifName;
  if (!ifName) throw new TskubeError('invalid-argument', 'interface name: missing');
  if (ifName.length > maxInterfaceNameLength)
    throw new TskubeError('invalid-argument', `interface name "${ifName}": longer than ${maxInterfaceNameLength} characters`);
  if (ifName === '.' || ifName === '..' || /[/:\s]/.test(ifName)) {
    throw new TskubeError('invalid-argument', `interface name "${ifName}": cannot be "." or ".." or hold "/", ":" or whitespace`);
  }
}

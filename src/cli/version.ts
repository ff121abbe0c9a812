import pkg from '../../package.json' with { type: 'json' };
import type { CommandIo } from './io.js';

export const tskubeVersion: string = pkg.version;

export async function version(_argv: string[], io: CommandIo): Promise<number> {
  io.stdout.write(`tskube ${tskubeVersion} (node ${process.versions.node})\n`);
  return 0;
}

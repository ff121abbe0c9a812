import { TskubeError } from '../../../common/errors.js';
import type { FilesystemUsage__Output } from '../../../gen/cri/runtime/v1/FilesystemUsage.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { humanSize } from '../list/go-format.js';
import { parseInspectFormat } from '../list/inspect-format.js';
import { printStatusDocuments, statusDocument, withoutNulls } from '../list/proto-json.js';

/** The `-o table` form: one "Key[i]: value" block per filesystem, as crictl prints. */
export function filesystemsTable(label: string, filesystems: readonly FilesystemUsage__Output[]): string {
  return (
    `${label} Filesystem \n` +
    filesystems
      .map(
        (fs, i) =>
          `TimeStamp[${i}]: ${fs.timestamp}\nDisk[${i}]: ${humanSize(fs.usedBytes?.value ?? '0')}\n` +
          `Inodes[${i}]: ${fs.inodesUsed?.value ?? '0'}\nMountpoint[${i}]: ${fs.fsId?.mountpoint ?? ''}\n`,
      )
      .join('')
  );
}

/** `crictl imagefsinfo`: usage of the filesystems holding images and container layers. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, { output: { type: 'string', short: 'o' }, template: { type: 'string' } });
  if (positionals.length > 0) throw new TskubeError('invalid-argument', `imagefsinfo takes no arguments, got "${positionals.join(' ')}"`);
  const format = parseInspectFormat(values.output, values.template);
  const client = await ctx.client();
  const reply = await client.image.call('ImageFsInfo', {}, { signal: ctx.io.signal });
  if (format === 'table') {
    ctx.io.stdout.write(filesystemsTable('Container', reply.containerFilesystems) + filesystemsTable('Image', reply.imageFilesystems));
    return 0;
  }
  await printStatusDocuments(ctx.io.stdout, format, [statusDocument(withoutNulls(reply))]);
  return 0;
}

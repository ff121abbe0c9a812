// The kubelet's own list of the attachments it made: one file per (sandbox, interface),
// written before the chain's ADD runs and removed once DEL succeeded. The result cache only
// learns of an attachment when ADD has finished, so a kubelet killed half-way through an
// ADD would leave a veth and an IPAM lease nothing points at; the record does, and the GC
// at the next start DELs it. It also keeps the network as it was at ADD, so a DEL after
// the config changed (or was renamed) still runs the plugins that made the attachment.
// The files use the result cache's format (without a result): `cnitool cache` reads them.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { TskubeError } from '../../common/errors.js';
import type { Attachment, AttachmentKey, NetworkConfig } from '../../cni/network-config.js';
import { attachmentCacheEntry, type CacheEntry, decodeCacheEntry, encodeCacheEntry } from '../../cni/result-cache.js';

export type AttachmentRecord = CacheEntry & { file: string };

export class AttachmentRecords {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #file(key: AttachmentKey): string {
    return join(this.dir, `${key.containerId}-${key.ifName}`);
  }

  async write(network: NetworkConfig, attachment: Attachment): Promise<void> {
    const entry = attachmentCacheEntry(network, attachment, undefined);
    // No fsync, as for the result cache: what it guards against is the process dying, not the machine.
    await writeFileAtomic(this.#file(attachment), encodeCacheEntry(entry), 0o600, { sync: false }).catch((err: unknown) => {
      throw TskubeError.from(err).wrap(`recording the attachment in ${this.dir}`);
    });
  }

  async read(key: AttachmentKey): Promise<AttachmentRecord | undefined> {
    const file = this.#file(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    const decoded = decodeCacheEntry(text);
    return decoded.kind === 'entry' ? { ...decoded.entry, file } : undefined;
  }

  async remove(key: AttachmentKey): Promise<void> {
    await rm(this.#file(key), { force: true });
  }

  /** Every record; unreadable files are removed (they cannot be acted on, and would be reported forever). */
  async list(): Promise<AttachmentRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).sort();
    } catch {
      return [];
    }
    const out: AttachmentRecord[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const file = join(this.dir, name);
      const decoded = decodeCacheEntry(await readFile(file, 'utf8').catch(() => ''));
      if (decoded.kind === 'entry' && decoded.entry.containerId && decoded.entry.ifName) out.push({ ...decoded.entry, file });
      else await rm(file, { force: true });
    }
    return out;
  }
}

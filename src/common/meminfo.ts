// /proc/meminfo, read the one way both node facts and node stats need it.

/** A field of /proc/meminfo in bytes (the file counts in kB); 0 when the kernel has no such field. */
export function meminfoBytes(meminfo: string, field: string): number {
  const m = new RegExp(`^${field.replace(/[()]/g, '\\$&')}:\\s+(\\d+)`, 'm').exec(meminfo);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The parts of a resolv.conf the kubelet uses to build a pod's DNS config. */
export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** The kubelet reads at most this much of the host's resolv.conf, as upstream does. */
export const maxResolvConfBytes = 10 << 20;

/**
 * Parses resolv.conf text as the kubelet does: `nameserver` lines accumulate; the last
 * `search` line and the last `options` line win; `#` comment lines are skipped. Search
 * domains lose a trailing dot (and a lone "." is dropped) so that "a.com" and "a.com."
 * count once against the search-list limits.
 */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const line of text.slice(0, maxResolvConfBytes).split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    const [keyword, ...rest] = fields;
    if (keyword === 'nameserver') {
      if (rest[0] !== undefined) conf.nameservers.push(rest[0]);
    } else if (keyword === 'search') {
      conf.searches = rest.filter((s) => s !== '.').map((s) => (s.endsWith('.') ? s.slice(0, -1) : s));
    } else if (keyword === 'options') {
      conf.options = rest;
    }
  }
  return conf;
}

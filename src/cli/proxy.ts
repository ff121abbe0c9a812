import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { TskubeError } from '../common/errors.js';
import { loadYaml } from '../common/yaml.js';
import {
  defaultConfigDocument,
  type ProxyOptions,
  proxyUsage,
  type ReadTextFile,
  resolveProxyOptions,
  wantsProxyHelp,
  writeConfigTarget,
} from '../proxy/config/index.js';
import type { Command } from './io.js';

export type ProxyRunner = (options: ProxyOptions, signal: AbortSignal) => Promise<void>;
export type ProxyCleaner = (signal: AbortSignal) => Promise<{ removed: string[]; failed: string[] }>;

export interface ProxyCommandDeps {
  /** Starts the proxy; by default the real one, loaded only when the command runs. */
  run?: ProxyRunner;
  cleanup?: ProxyCleaner;
  hostname?: () => string;
  readFile?: ReadTextFile;
}

const defaultRunner: ProxyRunner = async (options, signal) => (await import('../proxy/proxy.js')).runProxy(options, signal);
const defaultCleaner: ProxyCleaner = async (signal) => {
  const [{ cleanupAll }, { processExec }] = await Promise.all([import('../proxy/cleanup.js'), import('../proxy/exec/exec.js')]);
  return cleanupAll(processExec, signal);
};

/**
 * `tskube proxy`: kube-proxy's flags and --config. Every flag and field is checked before
 * anything on the node is touched; a bad one is one error line and exit 1.
 */
export function proxyCommand(deps: ProxyCommandDeps = {}): Command {
  return async (argv, io) => {
    let resolved: Awaited<ReturnType<typeof resolveProxyOptions>>;
    try {
      if (wantsProxyHelp(argv)) {
        io.stdout.write(proxyUsage());
        return 0;
      }
      const target = writeConfigTarget(argv);
      if (target !== undefined) {
        const { stringify } = await loadYaml();
        await writeFile(target, stringify(defaultConfigDocument()));
        return 0;
      }
      resolved = await resolveProxyOptions(argv, { hostname: (deps.hostname ?? hostname)() }, deps.readFile);
    } catch (err) {
      io.stderr.write(`tskube proxy: ${TskubeError.from(err, 'invalid-argument').message}\n`);
      return 1;
    }
    for (const w of resolved.warnings) io.stderr.write(`tskube proxy: warning: ${w}\n`);
    if (io.signal.aborted) return 0;
    try {
      if (resolved.options.cleanup) {
        const { removed, failed } = await (deps.cleanup ?? defaultCleaner)(io.signal);
        for (const r of removed) io.stderr.write(`tskube proxy: removed ${r}\n`);
        for (const f of failed) io.stderr.write(`tskube proxy: cleanup: ${f}\n`);
        return failed.length === 0 ? 0 : 1;
      }
      await (deps.run ?? defaultRunner)(resolved.options, io.signal);
      return 0;
    } catch (err) {
      const e = TskubeError.from(err);
      if (e.code === 'canceled' && io.signal.aborted) return 0;
      io.stderr.write(`tskube proxy: ${e.message}\n`);
      return 1;
    }
  };
}

export const proxy: Command = proxyCommand();

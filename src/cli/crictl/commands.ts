import type { CrictlContext } from './context.js';

/** A crictl subcommand module exports `run`; it parses its own flags. */
export type SubcommandRun = (argv: string[], ctx: CrictlContext) => Promise<number>;

export interface SubcommandEntry {
  name: string;
  aliases?: string[];
  summary: string;
  /** Whether the subcommand talks to the runtime (config and completion do not). */
  needsRuntime: boolean;
  load: () => Promise<SubcommandRun>;
}

/** Every subcommand, loaded lazily so one call loads one subcommand's code. */
export const subcommands: SubcommandEntry[] = [
  { name: 'attach', summary: 'Attach to a running container', needsRuntime: true, load: async () => (await import('./cmd/attach.js')).run },
  { name: 'create', summary: 'Create a new container', needsRuntime: true, load: async () => (await import('./cmd/create.js')).run },
  { name: 'exec', summary: 'Run a command in a running container', needsRuntime: true, load: async () => (await import('./cmd/exec.js')).run },
  { name: 'version', summary: 'Display runtime version information', needsRuntime: true, load: async () => (await import('./cmd/version.js')).run },
  { name: 'images', aliases: ['image', 'img'], summary: 'List images', needsRuntime: true, load: async () => (await import('./cmd/images.js')).run },
  { name: 'inspect', summary: 'Display the status of one or more containers', needsRuntime: true, load: async () => (await import('./cmd/inspect.js')).run },
  { name: 'inspecti', summary: 'Return the status of one or more images', needsRuntime: true, load: async () => (await import('./cmd/inspecti.js')).run },
  { name: 'imagefsinfo', summary: 'Return image filesystem info', needsRuntime: true, load: async () => (await import('./cmd/imagefsinfo.js')).run },
  { name: 'inspectp', summary: 'Display the status of one or more pods', needsRuntime: true, load: async () => (await import('./cmd/inspectp.js')).run },
  { name: 'logs', summary: 'Fetch the logs of a container', needsRuntime: true, load: async () => (await import('./cmd/logs.js')).run },
  { name: 'port-forward', summary: 'Forward local port to a pod', needsRuntime: true, load: async () => (await import('./cmd/port-forward.js')).run },
  { name: 'ps', summary: 'List containers', needsRuntime: true, load: async () => (await import('./cmd/ps.js')).run },
  { name: 'pull', summary: 'Pull an image from a registry', needsRuntime: true, load: async () => (await import('./cmd/pull.js')).run },
  { name: 'run', summary: 'Run a new container inside a sandbox', needsRuntime: true, load: async () => (await import('./cmd/run.js')).run },
  { name: 'runp', summary: 'Run a new pod', needsRuntime: true, load: async () => (await import('./cmd/runp.js')).run },
  { name: 'rm', summary: 'Remove one or more containers', needsRuntime: true, load: async () => (await import('./cmd/rm.js')).run },
  { name: 'rmi', summary: 'Remove one or more images', needsRuntime: true, load: async () => (await import('./cmd/rmi.js')).run },
  { name: 'rmp', summary: 'Remove one or more pods', needsRuntime: true, load: async () => (await import('./cmd/rmp.js')).run },
  { name: 'pods', summary: 'List pods', needsRuntime: true, load: async () => (await import('./cmd/pods.js')).run },
  { name: 'start', summary: 'Start one or more created containers', needsRuntime: true, load: async () => (await import('./cmd/start.js')).run },
  { name: 'info', summary: 'Display information of the container runtime', needsRuntime: true, load: async () => (await import('./cmd/info.js')).run },
  { name: 'stop', summary: 'Stop one or more running containers', needsRuntime: true, load: async () => (await import('./cmd/stop.js')).run },
  { name: 'stopp', summary: 'Stop one or more running pods', needsRuntime: true, load: async () => (await import('./cmd/stopp.js')).run },
  { name: 'update', summary: 'Update one or more running containers', needsRuntime: true, load: async () => (await import('./cmd/update.js')).run },
  { name: 'config', summary: 'Get and set crictl client configuration options', needsRuntime: false, load: async () => (await import('./cmd/config.js')).run },
  { name: 'stats', summary: 'List container(s) resource usage statistics', needsRuntime: true, load: async () => (await import('./cmd/stats.js')).run },
  { name: 'statsp', summary: 'List pod statistics', needsRuntime: true, load: async () => (await import('./cmd/statsp.js')).run },
  { name: 'completion', summary: 'Output shell completion code', needsRuntime: false, load: async () => (await import('./cmd/completion.js')).run },
];

export function findSubcommand(name: string): SubcommandEntry | undefined {
  return subcommands.find((s) => s.name === name || s.aliases?.includes(name));
}

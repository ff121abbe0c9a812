// A network configuration as the runtime executes it (SPEC section 1), after loading
// and validation: one list of plugins, whatever file format it came from.

export interface PluginConfig {
  /** The plugin binary's name, looked up in CNI_PATH. */
  type: string;
  /** Capability arguments this plugin asks for (`portMappings`, `bandwidth`, ...). */
  capabilities: Readonly<Record<string, boolean>>;
  /** The plugin object as written: every field passes to the plugin unchanged. */
  raw: Readonly<Record<string, unknown>>;
  /** Where it was written, for messages: `10-net.conflist plugins[1]`, or a file of its own. */
  source: string;
}

export interface NetworkConfig {
  name: string;
  /**
   * The version the plugins are called with: the highest of `cniVersion` and
   * `cniVersions` this library implements, as libcni chooses it.
   */
  cniVersion: string;
  /** Every version the file offers that this library implements, highest first. */
  offeredVersions: readonly string[];
  disableCheck: boolean;
  disableGC: boolean;
  loadOnlyInlinedPlugins: boolean;
  plugins: readonly PluginConfig[];
  /** The file it was loaded from (or a label such as `<stdin>`). */
  file: string;
  /**
   * What libcni keeps as the list's bytes, and so what the result cache stores as
   * `config`: a .conflist's own bytes, or the list a single-plugin .conf becomes.
   */
  bytes: Buffer;
}

/** (container ID, interface): what identifies an attachment to a network. */
export interface AttachmentKey {
  containerId: string;
  ifName: string;
}

/** The per-attachment parameters of ADD, CHECK and DEL (SPEC section 3). */
export interface Attachment extends AttachmentKey {
  /** The network namespace path; DEL may leave it empty when the namespace is gone. */
  netns: string;
  /** CNI_ARGS pairs, in order. */
  args?: readonly (readonly [string, string])[];
  /** Capability arguments; each goes to the plugins whose `capabilities` name it. */
  capabilityArgs?: Readonly<Record<string, unknown>>;
}

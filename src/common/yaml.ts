/**
 * The yaml library, loaded on first use (most CLI calls never need it). The package is
 * CommonJS under Node, so in the bundle a dynamic import yields it as `default`.
 */
export async function loadYaml(): Promise<typeof import('yaml')> {
  const mod = await import('yaml');
  return (mod as { default?: typeof import('yaml') }).default ?? mod;
}

/**
 * JSON as Go's encoding/json writes it, for text that Go programs read back or hash: <, >
 * and & and the JS line separators escaped. Field order and omitempty are the caller's
 * business (build the object in Go's struct order, leave empty optional fields out).
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

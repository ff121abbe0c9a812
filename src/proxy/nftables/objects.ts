// The nftables objects a transaction adds, flushes or deletes, as plain values: the same
// vocabulary as knftables (Table, Chain, Rule, Set, Map, Element), inside one table
// whose family and name the transaction carries.

export type NftFamily = 'ip' | 'ip6' | 'inet';

export interface NftTable {
  kind: 'table';
  comment?: string;
}

export interface NftChain {
  kind: 'chain';
  name: string;
  /** Base chains only: type, hook and priority (a number or a name such as "dstnat - 10"). */
  type?: 'filter' | 'nat' | 'route';
  hook?: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  priority?: string;
  comment?: string;
}

export interface NftRule {
  kind: 'rule';
  chain: string;
  /** The rule text as nft reads it, without the comment. */
  rule: string;
  comment?: string;
}

export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** "ipv4_addr . inet_proto . inet_service" or, for a map, "key : value". */
  type?: string;
  /** Instead of `type`: "typeof ip daddr . th dport ..." style. */
  typeof?: string;
  flags?: string[];
  /** Seconds. */
  timeout?: number;
  comment?: string;
}

export interface NftElement {
  kind: 'element';
  /** The set or map it belongs to. */
  container: 'set' | 'map';
  name: string;
  /** Key parts, joined by " . ". */
  key: string[];
  /** Value parts of a map element (a verdict such as "goto chain" is one part). */
  value?: string[];
  comment?: string;
  /** "name\0key" when the maker computed it already (the claims key); never printed. */
  id?: string;
}

export type NftObject = NftTable | NftChain | NftRule | NftSet | NftElement;

export type NftVerb = 'add' | 'create' | 'flush' | 'delete';

export interface NftOperation {
  verb: NftVerb;
  object: NftObject;
}

/** "ip", "ip6" for a family of addresses. */
export const nftFamilyOf = (family: 'IPv4' | 'IPv6'): NftFamily => (family === 'IPv4' ? 'ip' : 'ip6');

export const elementKeyText = (e: NftElement) => e.key.join(' . ');
export const elementValueText = (e: NftElement) => (e.value ?? []).join(' . ');

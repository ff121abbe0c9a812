// The testbed as a library, for the vitest global setup and scripts.
export { up, testbedInfo, TestbedUpError, type Testbed, type UpOptions } from './up.ts';
export { down } from './down.ts';
export { status, findTestbeds, type TestbedStatus } from './status.ts';
export { readState, type TestbedState } from './state.ts';
export { ensureBinaries } from './binaries.ts';
export { KUBE_VERSION, ETCD_VERSION, binDir } from './paths.ts';
export { seed, etcdSeedBinary, type SeedOptions, type SeedResult } from './seed.ts';

export { clientPairFileName, currentClientPairFile, currentClientPairPath, rotationDeadline } from './cert-files.js';
export { readCurrentPair, type ClientPair } from './cert-store.js';
export {
  bootstrapClientCertificate,
  defaultBootstrapTimeoutMs,
  type BootstrapEvent,
  type BootstrapResult,
  type ClientBootstrapOptions,
} from './client-bootstrap.js';
export { ClientCertificateRotator, type ClientRotationOptions, type RotationEvent } from './client-rotation.js';
export { checkNodeKubeconfig } from './kubeconfig-files.js';
export { renderNodeKubeconfig, type NodeKubeconfigSpec } from './node-kubeconfig.js';

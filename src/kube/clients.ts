// The typed APIs the kubelet uses, made from one KubeConfig. The reflector, the event
// recorder and the mirror pod client use RestClient instead (watch streams, patches
// with an explicit content type); these are for one-shot typed calls.
import { CertificatesV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface KubeClients {
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  certificates: CertificatesV1Api;
}

export function makeKubeClients(kc: KubeConfig): KubeClients {
  return {
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    certificates: kc.makeApiClient(CertificatesV1Api),
  };
}

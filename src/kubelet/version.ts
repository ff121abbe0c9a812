/**
 * What the Node reports as kubeletVersion: the Kubernetes release whose API and behaviour
 * tskube follows, with tskube named in the build metadata (ignored by version-skew
 * comparisons, as with k3s's "+k3s1").
 */
export const kubernetesVersion = 'v1.36.3';
export const kubeletVersion = `${kubernetesVersion}+tskube`;

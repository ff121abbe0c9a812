// The version tskube proxy reports (user agent, logs): upstream's it stands in for.
export const proxyVersion = 'v1.36.3+tskube';

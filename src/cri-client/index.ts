export { CriClient, criApiVersion, type CriClientOptions } from './cri-client.js';
export { ServiceCaller, type CallObserver, type CallOptions, type ReplyOf, type RequestOf } from './service-caller.js';
export { grpcTarget, socketPath } from './endpoint.js';

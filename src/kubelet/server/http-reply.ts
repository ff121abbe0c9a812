import type { ServerResponse } from 'node:http';

// How the kubelet API answers: plain text errors as Go's http.Error writes them, JSON
// for objects, and a metav1.Status for streaming failures (what kubectl decodes there).

export function replyText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

export function replyJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  500: 'InternalError',
  502: 'InternalError',
  503: 'ServiceUnavailable',
};

/** A metav1.Status failure. */
export function statusObject(code: number, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reasons[code] ?? 'InternalError', code };
}

export function replyStatus(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  replyJson(res, code, statusObject(code, message));
}

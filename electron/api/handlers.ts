// Dispatch of contract calls to the core, shared by the IPC handler (main.ts) and the HTTP
// server (server.ts), so both shells validate and answer identically.
import { type ApiMethod, type ApiRequest, type ApiResponse, type ApiResult, isApiMethod } from './contract.js';

export type ApiHandlers = { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResponse<M>> };

/** An error whose message is meant for the operator; `code` is stable for programs. */
export class UserError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export async function callApi(handlers: ApiHandlers, method: unknown, request: unknown): Promise<ApiResult> {
  if (!isApiMethod(method)) {
    return { ok: false, error: { code: 'unknown-method', message: `unknown API method: ${String(method)}` } };
  }
  const req = request === undefined || request === null ? {} : request;
  if (typeof req !== 'object' || Array.isArray(req)) {
    return { ok: false, error: { code: 'bad-request', message: `${method}: the request must be a JSON object` } };
  }
  try {
    const handler = handlers[method] as (r: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(req) };
  } catch (err) {
    if (err instanceof UserError) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
  }
}

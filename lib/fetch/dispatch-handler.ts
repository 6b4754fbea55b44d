/**
 * The two handler APIs of undici's Dispatcher contract behind one interface,
 * so that HyperwireAgent drives a request the same way whichever one its
 * caller speaks:
 *
 * - the old API (`onConnect(abort)`, `onHeaders(status, rawHeaders, resume,
 *   statusText)`, `onData(chunk)`, `onComplete(rawTrailers)`,
 *   `onError(err)`), which Node 20's global fetch and undici's
 *   `request()` use; returning `false` from `onHeaders`/`onData` pauses the
 *   body until `resume()` is called;
 * - the new API (`onRequestStart(controller, context)`,
 *   `onResponseStart(controller, status, headers, statusMessage)`,
 *   `onResponseData`, `onResponseEnd`, `onResponseError`), where the
 *   controller's `pause()`, `resume()` and `abort(reason)` steer.
 *
 * Both meet in {@link RequestController}: the old API's `abort` and
 * `resume` functions and its `false` returns are turned into calls on the
 * controller, as undici's own UnwrapHandler/WrapHandler pair does. The
 * types are structural, written from undici 7's `types/dispatcher.d.ts`:
 * nothing here imports undici.
 */

import { DispatchArgumentError } from './dispatcher-errors.js';

/** Header fields as the new handler API receives them: lower-cased names; a name that came more than once has an array. */
export type DispatchHeaderRecord = Record<string, string | string[]>;

/** What a handler of the new API is given to steer its request (undici's `DispatchController`). */
export interface DispatchController {
  /** The request was aborted (by the handler, a timeout, or the dispatcher being destroyed). */
  readonly aborted: boolean;
  /** The handler asked for no more body data until {@link resume}. */
  readonly paused: boolean;
  /** Why the request was aborted, or null. */
  readonly reason: Error | null;
  /** The response's header fields as undici's raw form: names and values alternating, as octets. */
  rawHeaders: Buffer[] | null;
  /** The trailer fields in the same raw form, once the body has ended. */
  rawTrailers: Buffer[] | null;
  /** Cancels the request: the stream is reset (HTTP/2) or the connection closed (HTTP/1.1). */
  abort(reason?: Error): void;
  /** Stops reading the body: no more data is taken from the connection until {@link resume}. */
  pause(): void;
  /** Reads the body again after {@link pause}. */
  resume(): void;
}

/**
 * A Dispatcher handler, in either API. A handler with `onRequestStart` is
 * spoken to with the new API only; any other with the old one, which then
 * needs `onConnect`, `onHeaders`, `onData`, `onComplete` and `onError`.
 */
export interface DispatchHandler {
  // The new API.
  /** The request is about to be sent. */
  onRequestStart?(controller: DispatchController, context: unknown): void;
  /** The response head has come. */
  onResponseStart?(controller: DispatchController, statusCode: number, headers: DispatchHeaderRecord, statusMessage?: string): void;
  /** A piece of the body, as it came (still content-encoded). */
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  /** The body ended; `trailers` has the trailer fields, if any came. */
  onResponseEnd?(controller: DispatchController, trailers: DispatchHeaderRecord): void;
  /** The request failed, or was aborted. */
  onResponseError?(controller: DispatchController, error: Error): void;
  /** Upgrades are not supported by hyperwire: never called. */
  onRequestUpgrade?(controller: DispatchController, statusCode: number, headers: DispatchHeaderRecord, socket: unknown): void;

  // Both APIs.
  /** The first octets of the response have come (before {@link onHeaders} / {@link onResponseStart}). */
  onResponseStarted?(): void;

  // The old API.
  /** The request is about to be sent; `abort` cancels it. */
  onConnect?(abort: (reason?: Error) => void, context?: unknown): void;
  /** The response head; return false to pause the body until `resume()` is called. */
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean | void;
  /** A piece of the body; return false to pause until `resume()` is called. */
  onData?(chunk: Buffer): boolean | void;
  /** The body ended; the trailer fields in raw form (names and values alternating). */
  onComplete?(rawTrailers: Buffer[] | null): void;
  /** The request failed, or was aborted. */
  onError?(error: Error): void;
  /** Upgrades are not supported by hyperwire: never called. */
  onUpgrade?(statusCode: number, rawHeaders: Buffer[] | null, socket: unknown): void;
}

/** @internal What the controller asks of the request it steers. */
export interface ControlledRequest {
  /** Cancels the request with `reason` (undefined: a plain abort); returns the error the handler is given. */
  abort(reason: Error | undefined): Error;
  /** The handler wants the body again. */
  resumed(): void;
}

/**
 * The controller of one request: pause, resume and abort, for both handler
 * APIs (the old API's functions and `false` returns call these).
 */
export class RequestController implements DispatchController {
  rawHeaders: Buffer[] | null = null;
  rawTrailers: Buffer[] | null = null;
  private pausedNow = false;
  private abortReason: Error | null = null;
  private abortedNow = false;
  /** Bumped by every resume(): lets the old API tell a resume() made during its own onData from none. */
  resumes = 0;

  /** @internal */
  constructor(private readonly request: ControlledRequest) {}

  get aborted(): boolean {
    return this.abortedNow;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  abort(reason?: Error): void {
    if (this.abortedNow) return;
    this.abortedNow = true;
    this.abortReason = reason ?? null;
    this.abortReason = this.request.abort(reason);
  }

  pause(): void {
    this.pausedNow = true;
  }

  resume(): void {
    this.resumes++;
    if (!this.pausedNow) return;
    this.pausedNow = false;
    this.request.resumed();
  }
}

/**
 * @internal How the agent speaks to a handler, whichever API it has. Each
 * call may throw what the handler threw; the agent aborts the request then,
 * as undici does.
 */
export interface HandlerSink {
  readonly controller: RequestController;
  /** onConnect / onRequestStart. */
  start(): void;
  /** The response head: onResponseStarted, then onHeaders / onResponseStart (pausing if the handler says so). */
  headers(statusCode: number, rawHeaders: Buffer[], statusText: string): void;
  /** A chunk: onData / onResponseData (pausing if the handler says so). */
  data(chunk: Buffer): void;
  /** onComplete / onResponseEnd. */
  complete(rawTrailers: Buffer[]): void;
  /** onError / onResponseError. Throws `error` itself when the handler has no error callback. */
  error(error: Error): void;
}

/**
 * The sink for `handler`, speaking the new API when it has `onRequestStart`
 * and the old one otherwise (undici's rule). Throws DispatchArgumentError for
 * an old-API handler missing one of its required callbacks, before
 * anything is sent.
 */
export function sinkFor(handler: DispatchHandler, request: ControlledRequest): HandlerSink {
  if (typeof handler.onRequestStart === 'function') return new ControllerSink(handler, request);
  for (const name of ['onConnect', 'onHeaders', 'onData', 'onComplete', 'onError'] as const) {
    if (typeof handler[name] !== 'function') throw new DispatchArgumentError(`invalid ${name} method`);
  }
  return new LegacySink(handler, request);
}

/** The old API, as Node 20's global fetch and undici's request() speak it. */
class LegacySink implements HandlerSink {
  readonly controller: RequestController;
  private readonly abortFn: (reason?: Error) => void;
  private readonly resumeFn: () => void;

  constructor(
    private readonly handler: DispatchHandler,
    request: ControlledRequest,
  ) {
    const controller = new RequestController(request);
    this.controller = controller;
    this.abortFn = (reason) => controller.abort(reason);
    this.resumeFn = () => controller.resume();
  }

  start(): void {
    this.handler.onConnect!(this.abortFn);
  }

  headers(statusCode: number, rawHeaders: Buffer[], statusText: string): void {
    this.handler.onResponseStarted?.();
    if (this.controller.aborted) return;
    const before = this.controller.resumes;
    const more = this.handler.onHeaders!(statusCode, rawHeaders, this.resumeFn, statusText);
    this.pauseUnlessResumed(more, before);
  }

  data(chunk: Buffer): void {
    const before = this.controller.resumes;
    const more = this.handler.onData!(chunk);
    this.pauseUnlessResumed(more, before);
  }

  complete(rawTrailers: Buffer[]): void {
    this.handler.onComplete!(rawTrailers);
  }

  error(error: Error): void {
    this.handler.onError!(error);
  }

  /**
   * `false` pauses, unless the handler already called resume() while it ran
   * (a Readable's _read can run inside push()): pausing then would wait for
   * a resume that has been and gone.
   */
  private pauseUnlessResumed(more: boolean | void, resumesBefore: number): void {
    if (more === false && this.controller.resumes === resumesBefore) this.controller.pause();
  }
}

/** The new API: the handler steers through the controller itself. */
class ControllerSink implements HandlerSink {
  readonly controller: RequestController;

  constructor(
    private readonly handler: DispatchHandler,
    request: ControlledRequest,
  ) {
    this.controller = new RequestController(request);
  }

  start(): void {
    this.handler.onRequestStart!(this.controller, undefined);
  }

  headers(statusCode: number, rawHeaders: Buffer[], statusText: string): void {
    this.handler.onResponseStarted?.();
    if (this.controller.aborted) return;
    this.controller.rawHeaders = rawHeaders;
    this.handler.onResponseStart?.(this.controller, statusCode, headerRecord(rawHeaders), statusText);
  }

  data(chunk: Buffer): void {
    this.handler.onResponseData?.(this.controller, chunk);
  }

  complete(rawTrailers: Buffer[]): void {
    this.controller.rawTrailers = rawTrailers;
    this.handler.onResponseEnd?.(this.controller, headerRecord(rawTrailers));
  }

  error(error: Error): void {
    if (typeof this.handler.onResponseError !== 'function') throw error;
    this.handler.onResponseError(this.controller, error);
  }
}

/**
 * Raw fields (names and values alternating) as the new API's record:
 * names lower-cased, values as latin1 text (one character per octet), a
 * repeated name collecting its values in an array, as undici's
 * parseHeaders does.
 */
export function headerRecord(raw: readonly Buffer[]): DispatchHeaderRecord {
  const out: DispatchHeaderRecord = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const had = Object.hasOwn(out, name) ? out[name] : undefined;
    if (had === undefined) {
      // A field named __proto__ must be data, not the prototype.
      Object.defineProperty(out, name, { value, enumerable: true, configurable: true, writable: true });
    } else if (typeof had === 'string') {
      out[name] = [had, value];
    } else {
      had.push(value);
    }
  }
  return out;
}

/** Fields as undici's raw form: names (as received) and values alternating, as latin1 octets. */
export function rawFields(fields: Iterable<readonly [string, string]>): Buffer[] {
  const out: Buffer[] = [];
  for (const [name, value] of fields) out.push(Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1'));
  return out;
}

/**
 * Adapts a handler for an interceptor made for undici 7's compose(), which
 * speaks the new API: an old-API handler is wrapped so it is called as
 * the new API calls (undici's WrapHandler); a new-API one is returned as
 * it is.
 */
export function wrapForInterceptor(handler: DispatchHandler): DispatchHandler {
  if (typeof handler.onRequestStart === 'function') return handler;
  return {
    onRequestStart(controller) {
      handler.onConnect?.((reason) => controller.abort(reason));
    },
    onResponseStarted() {
      handler.onResponseStarted?.();
    },
    onResponseStart(controller, statusCode, headers, statusMessage) {
      if (handler.onHeaders?.(statusCode, rawFromRecord(headers), () => controller.resume(), statusMessage ?? '') === false) controller.pause();
    },
    onResponseData(controller, chunk) {
      if (handler.onData?.(chunk) === false) controller.pause();
    },
    onResponseEnd(_controller, trailers) {
      handler.onComplete?.(rawFromRecord(trailers));
    },
    onResponseError(_controller, error) {
      if (typeof handler.onError !== 'function') throw error;
      handler.onError(error);
    },
  };
}

/** A header record back in raw form. */
function rawFromRecord(record: DispatchHeaderRecord): Buffer[] {
  const out: Buffer[] = [];
  for (const name of Object.keys(record)) {
    const value = record[name]!;
    if (typeof value === 'string') out.push(Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1'));
    else for (const v of value) out.push(Buffer.from(name, 'latin1'), Buffer.from(v, 'latin1'));
  }
  return out;
}

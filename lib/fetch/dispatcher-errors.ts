/**
 * The errors HyperwireAgent reports to a Dispatcher handler that are its
 * own (not the pool's): refused options, what the agent does not do, a
 * closed or destroyed agent, and undici's two timeouts. Each is a
 * HyperwireError with a stable `code`, as every other error of hyperwire.
 */

import { HyperwireError, ReadTimeoutError } from '../common/errors.js';

/** An option of `dispatch()` (or the handler) that cannot be used as given. Nothing was sent. */
export class DispatchArgumentError extends HyperwireError {
  constructor(message: string) {
    super('HW_ERR_INVALID_ARGUMENT', message, { scope: 'stream' });
  }
}

/**
 * Something the Dispatcher contract allows that hyperwire does not do:
 * upgrades (`upgrade`, CONNECT), redirects inside the dispatcher
 * (`maxRedirections`). Nothing was sent.
 */
export class DispatchNotSupportedError extends HyperwireError {
  constructor(message: string) {
    super('HW_ERR_NOT_SUPPORTED', message, { scope: 'stream' });
  }
}

/** The agent was closed: it takes no new requests (undici's ClientClosedError). */
export class DispatcherClosedError extends HyperwireError {
  constructor(message = 'The dispatcher is closed') {
    super('HW_ERR_DISPATCHER_CLOSED', message);
  }
}

/** The agent was destroyed: requests in flight are failed with this (undici's ClientDestroyedError). */
export class DispatcherDestroyedError extends HyperwireError {
  constructor(message = 'The dispatcher was destroyed') {
    super('HW_ERR_DISPATCHER_DESTROYED', message);
  }
}

/** The response head did not come within `headersTimeout`. The stream was reset. */
export class HeadersTimeoutError extends ReadTimeoutError {
  constructor(ms: number) {
    super(`No response head within the headers timeout of ${ms} ms`, { scope: 'stream' });
  }
}

/** The body went quiet (while it was being read) for longer than `bodyTimeout`. The stream was reset. */
export class BodyTimeoutError extends ReadTimeoutError {
  constructor(ms: number) {
    super(`No response data for the body timeout of ${ms} ms`, { scope: 'stream' });
  }
}

/**
 * The errors fetch() decides on by itself, where the Fetch Standard says
 * "return a network error" for a reason of its own rather than the
 * network's. fetch() rejects with `TypeError('fetch failed')` whose `cause`
 * is one of these (or an error of the layers below: a connect failure, a
 * reset stream, a malformed response), as undici does with its own errors.
 */

import { HyperwireError } from '../common/errors.js';

/**
 * A redirect that fetch() will not follow (Fetch Standard §4.3 HTTP fetch
 * and §4.4 HTTP-redirect fetch). `code` says why:
 *
 * - `HW_ERR_UNEXPECTED_REDIRECT`: `redirect: 'error'` and a redirect came;
 * - `HW_ERR_TOO_MANY_REDIRECTS`: a 21st redirect (the limit is 20);
 * - `HW_ERR_REDIRECT_LOCATION`: the Location is not a URL;
 * - `HW_ERR_REDIRECT_SCHEME`: the Location is not http(s);
 * - `HW_ERR_REDIRECT_CREDENTIALS`: the Location carries a user name or password.
 *
 * A redirect that would need a streamed body again is a `BodyNotReplayableError`.
 */
export class RedirectError extends HyperwireError {
  /** The status of the redirect. */
  readonly status: number;
  /** The Location as received, when there was one. */
  readonly location: string | undefined;
  constructor(code: string, message: string, status: number, location?: string, options: { cause?: unknown } = {}) {
    super(code, message, { scope: 'stream', cause: options.cause });
    this.status = status;
    this.location = location;
  }
}

/**
 * A request fetch() does not send at all: a port the Fetch Standard blocks
 * (§2.9 Port blocking, `HW_ERR_BAD_PORT`), a scheme it cannot fetch
 * (`HW_ERR_UNSUPPORTED_SCHEME`), or a cross-origin hop the request's mode
 * forbids (`HW_ERR_CROSS_ORIGIN`: mode `same-origin`, or `no-cors` without
 * `redirect: 'follow'`; §4.1 Main fetch step 12).
 */
export class RequestBlockedError extends HyperwireError {
  /** The URL that was not fetched. */
  readonly url: string;
  constructor(code: string, message: string, url: string) {
    super(code, message, { scope: 'stream' });
    this.url = url;
  }
}

/**
 * Header fields that fetch() will not send, as undici refuses them when it
 * dispatches a request: `Transfer-Encoding`, `Keep-Alive` and `Upgrade`
 * (framing and connection management are the client's), `Expect`
 * (100-continue is not offered), a `Connection` that is not a list of
 * tokens, or a `Content-Length` that is not a number or disagrees with the
 * body (`HW_ERR_CONTENT_LENGTH`). Nothing was sent.
 */
export class InvalidRequestError extends HyperwireError {
  /** The field at fault, lower case. */
  readonly field: string;
  constructor(code: string, message: string, field: string) {
    super(code, message, { scope: 'stream' });
    this.field = field;
  }
}

/**
 * The response body did not match the request's `integrity` metadata
 * (Fetch Standard §4.1 Main fetch step 22; Subresource Integrity §3.3.5).
 */
export class IntegrityError extends HyperwireError {
  constructor(message: string) {
    super('HW_ERR_INTEGRITY', message, { scope: 'stream' });
  }
}

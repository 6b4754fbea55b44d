/**
 * HTTP11Response: a response read from an HTTP11Connection.
 */

import { BaseResponse, type BaseResponseInit } from '../common/response.js';

/** @internal What the connection gives a response. */
export interface HTTP11ResponseInit extends BaseResponseInit {
  reason: string;
  version: number;
}

/**
 * A response on an HTTP/1.1 connection: the same reading calls as
 * `HTTP20Response`. The body arrives as it is read (the socket is paused
 * while enough is buffered). {@link close} on an unfinished body closes the
 * connection, since its framing is lost; the next request reconnects.
 */
export class HTTP11Response extends BaseResponse {
  /** The reason phrase the server sent. */
  readonly reason: string;
  /** 1.0 or 1.1 as 10 or 11. */
  readonly version: number;
  /** HTTP/1.1 has no streams: always null. */
  readonly streamId = null;

  /** @internal */
  constructor(init: HTTP11ResponseInit) {
    super(init);
    this.reason = init.reason;
    this.version = init.version;
  }
}

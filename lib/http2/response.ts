/**
 * HTTP20Response: one response, read by stream ID from an HTTP20Connection.
 */

import { BaseResponse, type BaseResponseInit } from '../common/response.js';

export type { ReadOptions } from '../common/response.js';

/** @internal What the connection gives a response. */
export interface ResponseInit extends BaseResponseInit {
  streamId: number;
}

/**
 * A response on an HTTP/2 stream. The stream's flow-control window is given
 * back as the body is read, so a response nobody reads holds back its
 * sender. {@link close} on an unfinished stream resets it with CANCEL.
 */
export class HTTP20Response extends BaseResponse {
  /** The stream this response arrived on. */
  readonly streamId: number;
  /** HTTP/2 has no reason phrase: always ''. */
  readonly reason = '';
  /** Always 2. */
  readonly version = 2 as const;

  /** @internal */
  constructor(init: ResponseInit) {
    super(init);
    this.streamId = init.streamId;
  }
}

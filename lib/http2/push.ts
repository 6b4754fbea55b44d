/**
 * HTTP20Push: a response the server pushed (RFC 9113 §8.4).
 */

import { HTTPHeaderMap } from '../common/headers.js';
import type { PushedRequest } from './header-rules.js';
import type { HTTP20Response } from './response.js';

/** @internal What the connection gives a push. */
export interface PushInit {
  parentStreamId: number;
  promisedStreamId: number;
  request: PushedRequest;
  response: () => Promise<HTTP20Response>;
  cancel: () => void;
}

/** A pushed response: the request the server answered for us, and its response. */
export class HTTP20Push {
  /** The stream whose response the push belongs to. */
  readonly parentStreamId: number;
  /** The stream the pushed response arrives on. */
  readonly promisedStreamId: number;
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  /** The pushed request's regular header fields. */
  readonly requestHeaders: HTTPHeaderMap;
  private readonly init: PushInit;

  /** @internal */
  constructor(init: PushInit) {
    this.init = init;
    this.parentStreamId = init.parentStreamId;
    this.promisedStreamId = init.promisedStreamId;
    this.method = init.request.method;
    this.scheme = init.request.scheme;
    this.authority = init.request.authority;
    this.path = init.request.path;
    this.requestHeaders = new HTTPHeaderMap(init.request.fields);
  }

  /** The pushed response. */
  getResponse(): Promise<HTTP20Response> {
    return this.init.response();
  }

  /** Refuses the push: its stream is reset with CANCEL (§8.4.2). */
  cancel(): void {
    this.init.cancel();
  }
}

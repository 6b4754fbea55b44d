/**
 * The Client's Request: what will be sent, built once from the caller's
 * options (httpx's Request). Headers are an HTTPHeaderMap an auth flow may
 * change; the body is already encoded.
 */

import type { RequestBody } from '../common/body.js';
import { HTTPHeaderMap } from '../common/headers.js';
import { ClientURL } from './origin.js';

/** @internal What the Client builds a Request from. */
export interface RequestInit {
  method: string;
  url: string;
  headers: HTTPHeaderMap;
  body: RequestBody;
  /** Whether the body can be sent again (in memory), for redirects and auth challenges. */
  replayable: boolean;
}

/** An HTTP request, ready to send with `client.send()`. */
export class Request {
  /** The method, as it will be sent. */
  readonly method: string;
  /** The absolute URL. */
  readonly url: string;
  /** The header fields (the Client's defaults merged in); an auth flow may change them. */
  readonly headers: HTTPHeaderMap;
  /** The body, encoded: bytes, text, or a stream. */
  readonly content: RequestBody;
  /** The body can be sent again (it is in memory). */
  readonly replayable: boolean;

  /** @internal */
  constructor(init: RequestInit) {
    this.method = init.method;
    this.url = init.url;
    this.headers = init.headers;
    this.content = init.body;
    this.replayable = init.replayable;
  }

  /** The URL taken apart (scheme, host, port, target, origin). */
  get urlParts(): ClientURL {
    return new ClientURL(this.url);
  }

  /** @internal The same request to another URL, method or body (a redirect). */
  withChanges(changes: Partial<RequestInit>): Request {
    return new Request({
      method: changes.method ?? this.method,
      url: changes.url ?? this.url,
      headers: changes.headers ?? new HTTPHeaderMap(this.headers),
      body: 'body' in changes ? changes.body : this.content,
      replayable: changes.replayable ?? this.replayable,
    });
  }

  toString(): string {
    return `<Request [${this.method} ${this.url}]>`;
  }
}

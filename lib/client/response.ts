/**
 * The Client's Response (httpx's): status and headers at once; the body
 * read whole (`read()`, then `content`, `text`, `json()`) or streamed
 * (`iterBytes()`, `iterText()`, `iterLines()`). Text is decoded with
 * TextDecoder, by the charset of Content-Type, else UTF-8 when the bytes
 * are valid UTF-8, else latin1.
 */

import { HyperwireError } from '../common/errors.js';
import type { HTTPHeaderMap } from '../common/headers.js';
import type { HTTPResponse } from '../pool/response.js';
import type { Cookies } from './cookies.js';
import type { Request } from './request.js';

/** A 4xx or 5xx response, from `raiseForStatus()`. */
export class HTTPStatusError extends HyperwireError {
  readonly request: Request;
  readonly response: Response;
  constructor(message: string, request: Request, response: Response) {
    super('HW_ERR_HTTP_STATUS', message, { scope: 'stream' });
    this.request = request;
    this.response = response;
  }
}

/** `content`, `text` or `json()` before the body was read. */
export class ResponseNotRead extends HyperwireError {
  constructor() {
    super('HW_ERR_RESPONSE_NOT_READ', 'The response body has not been read: call read() first (or use iterBytes() to stream it)', { scope: 'stream' });
  }
}

/** The body was asked for twice as a stream, or after it was read or closed. */
export class StreamConsumed extends HyperwireError {
  constructor() {
    super('HW_ERR_STREAM_CONSUMED', 'The response body has already been streamed or closed', { scope: 'stream' });
  }
}

/** @internal What the Client builds a Response from. */
export interface ResponseInit {
  raw: HTTPResponse;
  request: Request;
  history: Response[];
  cookies: Cookies;
  started: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** An HTTP response to a Client's request. */
export class Response {
  readonly status: number;
  /** The reason phrase ('' on HTTP/2, which has none). */
  readonly reasonPhrase: string;
  /** `'HTTP/2'` or `'HTTP/1.1'`. */
  readonly protocol: 'HTTP/2' | 'HTTP/1.1';
  /** The URL of the request this answers (after redirects, the last). */
  readonly url: string;
  readonly headers: HTTPHeaderMap;
  /** The request this answers. */
  readonly request: Request;
  /** The redirect responses that led here, oldest first. */
  readonly history: readonly Response[];
  /** The cookies this response set. */
  readonly cookies: Cookies;
  /** The body came from a server push, without a request. */
  readonly fromPush: boolean;
  private readonly raw: HTTPResponse;
  private readonly started: number;
  private ended: number | null = null;
  private body: Buffer | null = null;
  private streamed = false;
  private charset: string | null | undefined;

  /** @internal */
  constructor(init: ResponseInit) {
    const raw = init.raw;
    this.raw = raw;
    this.status = raw.status;
    this.reasonPhrase = raw.reason;
    this.protocol = raw.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1';
    this.url = init.request.url;
    this.headers = raw.headers;
    this.request = init.request;
    this.history = init.history;
    this.cookies = init.cookies;
    this.fromPush = raw.fromPush;
    this.started = init.started;
    if (raw.data !== null) {
      this.body = raw.data;
      this.ended = performance.now();
    }
  }

  /** ms from sending the request to the body's end (so far, while it is still being read). */
  get elapsed(): number {
    return (this.ended ?? performance.now()) - this.started;
  }

  get isInformational(): boolean {
    return this.status >= 100 && this.status < 200;
  }
  get isSuccess(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  /** A redirect status with a Location to follow. */
  get isRedirect(): boolean {
    return REDIRECTS.has(this.status) && this.headers.has('location');
  }
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }
  get isServerError(): boolean {
    return this.status >= 500 && this.status < 600;
  }
  get isError(): boolean {
    return this.status >= 400;
  }

  /**
   * Throws an HTTPStatusError for a 4xx or 5xx response; returns the
   * response otherwise, so it chains.
   */
  raiseForStatus(): this {
    if (!this.isError) return this;
    const kind = this.isClientError ? 'Client error' : 'Server error';
    throw new HTTPStatusError(`${kind} '${this.status}${this.reasonPhrase ? ` ${this.reasonPhrase}` : ''}' for url '${this.url}'`, this.request, this);
  }

  /**
   * The charset text is decoded with: Content-Type's, when TextDecoder
   * knows it; else (once the body is read) `utf-8` when the body is valid
   * UTF-8, else `latin1`.
   */
  get encoding(): string {
    const declared = this.declaredCharset();
    if (declared !== null) return declared;
    if (this.body !== null) return isUtf8(this.body) ? 'utf-8' : 'latin1';
    return 'utf-8';
  }

  /** Content-Type's charset, when TextDecoder knows it; else null. */
  private declaredCharset(): string | null {
    if (this.charset === undefined) {
      const declared = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(this.headers.first('content-type') ?? '')?.[1];
      this.charset = declared !== undefined && knownCharset(declared) ? declared.toLowerCase() : null;
    }
    return this.charset;
  }

  /** Reads the whole body (once); later calls return the same bytes. */
  async read(): Promise<Buffer> {
    if (this.body !== null) return this.body;
    if (this.streamed) throw new StreamConsumed();
    this.streamed = true;
    this.body = await this.raw.read();
    this.ended = performance.now();
    return this.body;
  }

  /** The body, after `read()`. */
  get content(): Buffer {
    if (this.body === null) throw new ResponseNotRead();
    return this.body;
  }

  /** The body as text, after `read()` (see {@link encoding}). */
  get text(): string {
    return new TextDecoder(this.encoding).decode(this.content);
  }

  /** The body parsed as JSON, after `read()` (JSON is UTF-8 by RFC 8259 §8.1 unless it says otherwise). */
  json(): unknown {
    return JSON.parse(this.text) as unknown;
  }

  /** The body as it arrives, in chunks of at most `chunkSize` octets when given. */
  async *iterBytes(chunkSize?: number): AsyncGenerator<Buffer> {
    if (this.body !== null) {
      const step = chunkSize ?? (this.body.length || 1);
      for (let i = 0; i < this.body.length; i += step) yield this.body.subarray(i, i + step);
      return;
    }
    if (this.streamed) throw new StreamConsumed();
    this.streamed = true;
    try {
      yield* this.raw.stream(chunkSize);
    } finally {
      this.ended = performance.now();
      this.raw.releaseConn();
    }
  }

  /** The body as text, decoded as it arrives. */
  async *iterText(): AsyncGenerator<string> {
    // Streaming, the body is not there to guess from: the declared charset, else UTF-8.
    const decoder = new TextDecoder(this.declaredCharset() ?? 'utf-8');
    for await (const chunk of this.iterBytes()) {
      const text = decoder.decode(chunk, { stream: true });
      if (text !== '') yield text;
    }
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  }

  /** The body as lines of text (split at \n, \r\n or \r; without the line breaks). */
  async *iterLines(): AsyncGenerator<string> {
    let pending = '';
    for await (const text of this.iterText()) {
      pending += text;
      // A trailing \r may be the first half of a \r\n split across chunks: keep it back.
      const end = pending.endsWith('\r') ? pending.length - 1 : pending.length;
      const parts = pending.slice(0, end).split(/\r\n|\n|\r/);
      pending = parts.pop()! + pending.slice(end);
      for (const line of parts) yield line;
    }
    // At the end a lone \r is a line break too.
    if (pending !== '') yield pending.endsWith('\r') ? pending.slice(0, -1) : pending;
  }

  /** Done with the response: an unread body is given up (its stream reset, or its HTTP/1.1 connection closed). */
  close(): void {
    this.raw.releaseConn();
    this.ended ??= performance.now();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  toString(): string {
    return `<Response [${this.status}${this.reasonPhrase ? ` ${this.reasonPhrase}` : ''}]>`;
  }

}

function knownCharset(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Response fetch() resolves with: an instance of the platform's own
 * global `Response` (so `instanceof Response`, `Response.prototype`
 * methods and every library that checks for a Response accept it) that
 * also carries what only a fetch can set.
 *
 * The public constructor cannot set a response's URL list, type or
 * redirected flag (Fetch Standard §5.5 Response class: they come from the
 * internal response, which only fetch makes), nor a status outside 200-599
 * (an opaque filtered response has status 0). So the response is made
 * with `new Response(body, init)` by a subclass that keeps those values in
 * a private field and answers `url`, `type`, `redirected`, `status`, `ok`
 * and `statusText` from it, and whose `clone()` makes another instance of
 * the subclass with the same values around the tee'd body the platform's
 * clone() makes. A clone of a clone keeps them too.
 *
 * Its headers are immutable, as a fetched response's are (the "immutable"
 * headers guard, §5.5): `append`, `set` and `delete` throw a TypeError.
 *
 * A body from the network is a {@link ResponseBody}, made into a stream only
 * when `body`, `clone()`, `blob()` or `formData()` asks for one;
 * `arrayBuffer()`, `bytes()`, `text()` and `json()` read it from the pool
 * directly. The platform's constructor then holds no body, so these
 * members are answered here, with the platform's results and errors. The
 * platform's own methods called on such a response with `.call()` would
 * see no body.
 */

import { ResponseBody } from './response-body.js';

/** The response types fetch() gives (§2.2.6 Responses, filtered responses). */
export type FetchResponseType = 'basic' | 'cors' | 'opaque';

/** What a fetched response carries beyond its body and headers. */
export interface FetchResponseState {
  /** The last URL of the URL list, without its fragment; '' for an opaque response. */
  readonly url: string;
  readonly type: FetchResponseType;
  /** The URL list has more than one URL. */
  readonly redirected: boolean;
  /** The status as received (0 for an opaque response). */
  readonly status: number;
  /** The reason phrase as received ('' on HTTP/2). */
  readonly statusText: string;
}

/** §5.5 Response constructor: a status the constructor accepts. */
function constructible(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

/** A reason phrase the constructor accepts (RFC 9112 §4: HTAB, SP, VCHAR, obs-text). */
function validReason(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff))) return false;
  }
  return true;
}

function refuseMutation(): never {
  throw new TypeError('immutable');
}

/**
 * `bytes` over an ArrayBuffer of their own and of their exact size: a
 * Buffer may be a view into a shared pool, and its slice() is a view too,
 * so a copy is made with Uint8Array's constructor when needed.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? new Uint8Array(bytes.buffer) : new Uint8Array(bytes);
}

/**
 * Headers whose changes are refused: the prototype a response's headers
 * get. One prototype for all, set in one step: three properties defined on
 * each instance cost six times as much, per response.
 */
const LOCKED_HEADERS: object = Object.create(Headers.prototype, {
  append: { value: refuseMutation, configurable: true },
  set: { value: refuseMutation, configurable: true },
  delete: { value: refuseMutation, configurable: true },
});

/** Makes a Headers object refuse changes, as the "immutable" guard does. */
function lockHeaders(headers: Headers): void {
  Object.setPrototypeOf(headers, LOCKED_HEADERS);
}

/** @internal The global Response, as fetch() makes it. Not constructed by users. */
export class FetchResponse extends Response {
  readonly #state: FetchResponseState;
  /** The body, when it comes from the network and is made a stream only on demand. */
  readonly #lazy: ResponseBody | null;

  constructor(body: ReadableStream<Uint8Array> | ResponseBody | null, headers: Iterable<readonly [string, string]> | Headers | null, state: FetchResponseState) {
    const lazy = body instanceof ResponseBody ? body : null;
    super(lazy !== null ? null : (body as ReadableStream<Uint8Array> | null), {
      // Values the constructor refuses are answered from the state instead.
      status: constructible(state.status) ? state.status : 200,
      statusText: validReason(state.statusText) ? state.statusText : '',
      ...(headers !== null ? { headers: headers as ResponseInit['headers'] } : {}),
    });
    this.#state = state;
    this.#lazy = lazy;
    lockHeaders(this.headers);
  }

  /**
   * The body's bytes, for the readers: straight from the pool when no
   * stream was made; otherwise as the platform reads a stream. Rejects as
   * the platform does for a body used or locked.
   */
  static #bytes(lazy: ResponseBody): Promise<Uint8Array> {
    if (!lazy.usable) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    if (!lazy.touched) return lazy.readAll();
    return new Response(lazy.stream).arrayBuffer().then((b) => new Uint8Array(b));
  }

  /** A platform Response over the body's stream and these headers, for what only the platform does (blob types, form parsing). */
  static #platform(r: FetchResponse, lazy: ResponseBody): Response {
    if (!lazy.usable) throw new TypeError('Body is unusable: Body has already been read');
    return new Response(lazy.stream, { headers: r.headers });
  }

  static {
    // Accessors and clone() go on the prototype as the platform's are
    // (enumerable, configurable). They are defined here rather than as
    // class members because the platform's type declarations make them
    // properties, which a subclass may not redeclare as accessors.
    // The platform's constructor reads some of them (status, to check a
    // null body status) before the state is set: until then, its own
    // answer is the right one.
    const getter = <K extends keyof FetchResponseState | 'ok'>(name: K, get: (r: FetchResponse) => unknown): PropertyDescriptor => {
      const base = Object.getOwnPropertyDescriptor(Response.prototype, name)!.get!;
      return {
        get(this: FetchResponse): unknown {
          return #state in this ? get(this) : base.call(this);
        },
        enumerable: true,
        configurable: true,
      };
    };
    const baseClone = Object.getOwnPropertyDescriptor(Response.prototype, 'clone')!.value as (this: Response) => Response;
    const method = (name: string, own: (r: FetchResponse, lazy: ResponseBody) => Promise<unknown>): PropertyDescriptor => {
      const base = Object.getOwnPropertyDescriptor(Response.prototype, name)!.value as (this: Response) => Promise<unknown>;
      return {
        value: {
          [name](this: FetchResponse): Promise<unknown> {
            const lazy = #lazy in this ? this.#lazy : null;
            if (lazy === null) return base.call(this);
            try {
              return own(this, lazy);
            } catch (err) {
              return Promise.reject(err);
            }
          },
        }[name],
        writable: true,
        enumerable: true,
        configurable: true,
      };
    };
    const lazyGetter = (name: 'body' | 'bodyUsed', own: (lazy: ResponseBody) => unknown): PropertyDescriptor => {
      const base = Object.getOwnPropertyDescriptor(Response.prototype, name)!.get!;
      return {
        get(this: FetchResponse): unknown {
          const lazy = #lazy in this ? this.#lazy : null;
          return lazy === null ? base.call(this) : own(lazy);
        },
        enumerable: true,
        configurable: true,
      };
    };
    const decoder = new TextDecoder();
    // bytes() came to Node 20 in a later minor release.
    if (Object.getOwnPropertyDescriptor(Response.prototype, 'bytes') !== undefined) {
      Object.defineProperty(
        FetchResponse.prototype,
        'bytes',
        method('bytes', async (_, lazy) => ownBytes(await FetchResponse.#bytes(lazy))),
      );
    }
    Object.defineProperties(FetchResponse.prototype, {
      url: getter('url', (r) => r.#state.url),
      type: getter('type', (r) => r.#state.type),
      redirected: getter('redirected', (r) => r.#state.redirected),
      status: getter('status', (r) => r.#state.status),
      statusText: getter('statusText', (r) => r.#state.statusText),
      ok: getter('ok', (r) => r.#state.status >= 200 && r.#state.status <= 299),
      body: lazyGetter('body', (lazy) => lazy.stream),
      bodyUsed: lazyGetter('bodyUsed', (lazy) => lazy.used),
      arrayBuffer: method('arrayBuffer', async (_, lazy) => ownBytes(await FetchResponse.#bytes(lazy)).buffer),
      text: method('text', async (_, lazy) => decoder.decode(await FetchResponse.#bytes(lazy))),
      json: method('json', async (_, lazy) => JSON.parse(decoder.decode(await FetchResponse.#bytes(lazy))) as unknown),
      blob: method('blob', (r, lazy) => FetchResponse.#platform(r, lazy).blob()),
      formData: method('formData', (r, lazy) => FetchResponse.#platform(r, lazy).formData()),
      clone: {
        value: function clone(this: FetchResponse): Response {
          const lazy = this.#lazy;
          if (lazy !== null) {
            if (!lazy.usable) throw new TypeError('Response.clone: Body has already been consumed.');
            // Tee the body's stream, as the platform's clone() does: one
            // branch stays this response's body, the other is the copy's.
            const [mine, theirs] = lazy.stream.tee();
            lazy.replaceStream(mine);
            return new FetchResponse(theirs, this.headers, this.#state);
          }
          // The platform's clone() checks that the body is unused and tees
          // it; the copy it returns is a plain Response, so its body and
          // headers are moved into one of ours with the same state.
          const copy = baseClone.call(this);
          return new FetchResponse(copy.body, copy.headers, this.#state);
        },
        writable: true,
        enumerable: true,
        configurable: true,
      },
    });
  }
}

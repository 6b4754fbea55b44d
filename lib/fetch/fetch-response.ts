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
 */

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

/** Makes a Headers object refuse changes, as the "immutable" guard does. */
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

function lockHeaders(headers: Headers): void {
  Object.setPrototypeOf(headers, LOCKED_HEADERS);
}

/** @internal The global Response, as fetch() makes it. Not constructed by users. */
export class FetchResponse extends Response {
  readonly #state: FetchResponseState;

  constructor(body: ReadableStream<Uint8Array> | null, headers: Iterable<readonly [string, string]> | Headers | null, state: FetchResponseState) {
    super(body, {
      // Values the constructor refuses are answered from the state instead.
      status: constructible(state.status) ? state.status : 200,
      statusText: validReason(state.statusText) ? state.statusText : '',
      ...(headers !== null ? { headers: headers as ResponseInit['headers'] } : {}),
    });
    this.#state = state;
    lockHeaders(this.headers);
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
    Object.defineProperties(FetchResponse.prototype, {
      url: getter('url', (r) => r.#state.url),
      type: getter('type', (r) => r.#state.type),
      redirected: getter('redirected', (r) => r.#state.redirected),
      status: getter('status', (r) => r.#state.status),
      statusText: getter('statusText', (r) => r.#state.statusText),
      ok: getter('ok', (r) => r.#state.status >= 200 && r.#state.status <= 299),
      clone: {
        value: function clone(this: FetchResponse): Response {
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

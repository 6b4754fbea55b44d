/**
 * A request's body as fetch() holds it between redirects: what to send on
 * each hop, its length, and whether it can be sent again.
 *
 * The Fetch Standard keeps a body's *source* beside its stream (§5.2
 * BodyInit unions, "extract a body"): a string, octets, a Blob, a FormData
 * or a URLSearchParams can be extracted again for a 307/308 redirect (§4.4
 * HTTP-redirect fetch step 14); a stream has no source and cannot (step 11
 * makes that a network error). Its *length* is known for every source, and
 * is sent as Content-Length (§4.5 HTTP-network-or-cache fetch step 8.8);
 * a stream is sent chunked on HTTP/1.1.
 */

import type { RequestBody } from '../common/body.js';
import { boundaryOf, encodeForm, formBoundary, type FormPart } from './form-data.js';

/** A request body: sent on a hop with {@link take}, and again after a redirect when {@link replayable}. */
export interface FetchBody {
  /** Octets in all, or null for a stream. */
  readonly length: number | null;
  /** The body has a source and can be extracted again (not a stream). */
  readonly replayable: boolean;
  /** The body for one hop: octets, or chunks read as they are sent. */
  take(): RequestBody;
  /** Cancels a stream nobody is reading (the fetch was aborted): the Fetch Standard's "abort the fetch() call", step 2. */
  cancel(reason: unknown): void;
}

/** A body whose octets are all here (a string, octets, a URLSearchParams). */
function bytesBody(bytes: Uint8Array): FetchBody {
  return {
    length: bytes.byteLength,
    replayable: true,
    take: () => bytes,
    cancel: () => {},
  };
}

/** A body of pieces, some of them Blobs read when sent (a Blob, a FormData with files). */
function partsBody(parts: readonly FormPart[], length: number): FetchBody {
  if (parts.every((p): p is Uint8Array => p instanceof Uint8Array)) return bytesBody(Buffer.concat(parts, length));
  return {
    length,
    replayable: true,
    take: () => ({
      async *[Symbol.asyncIterator]() {
        for (const part of parts) {
          if (part instanceof Uint8Array) yield part;
          else for await (const chunk of part.stream()) yield chunk as Uint8Array;
        }
      },
    }),
    cancel: () => {},
  };
}

/** A body that is a stream: taken once, never again. */
function streamBody(stream: ReadableStream<Uint8Array>): FetchBody {
  return {
    length: null,
    replayable: false,
    take: () => stream as unknown as AsyncIterable<Uint8Array>,
    cancel: (reason) => {
      // A stream being sent is locked by its reader, which the abort ends;
      // one not yet taken is cancelled here, so that its source hears of it.
      if (!stream.locked) stream.cancel(reason).catch(() => {});
    },
  };
}

/**
 * The body of `request`, made from `initBody` (the `body` of the init
 * dictionary the Request was made with) when one was given, so that its
 * source and length are known; otherwise, for a Request given as input,
 * its body stream (whose source a Request does not expose). Null for none.
 *
 * `contentType` is the request's Content-Type: a FormData is encoded with
 * the boundary it names, so that the body and the header agree.
 */
export function requestBody(request: Request, initBody: unknown, contentType: string | null): FetchBody | null {
  if (request.body === null) return null;
  if (initBody === undefined || initBody === null) return streamBody(request.body);
  if (typeof initBody === 'string') return bytesBody(Buffer.from(initBody, 'utf8'));
  if (initBody instanceof ArrayBuffer) return bytesBody(new Uint8Array(initBody.slice(0)));
  if (ArrayBuffer.isView(initBody)) {
    // "A copy of the bytes held by" the view: a later change to the
    // caller's buffer does not change what is sent.
    return bytesBody(Uint8Array.prototype.slice.call(new Uint8Array(initBody.buffer, initBody.byteOffset, initBody.byteLength)));
  }
  if (initBody instanceof Blob) return partsBody([initBody], initBody.size);
  if (initBody instanceof URLSearchParams) return bytesBody(Buffer.from(initBody.toString(), 'utf8'));
  if (initBody instanceof FormData) {
    const form = encodeForm(initBody, boundaryOf(contentType) ?? formBoundary());
    return partsBody(form.parts, form.length);
  }
  if (initBody instanceof ReadableStream || isAsyncIterable(initBody)) return streamBody(request.body);
  // Anything else was converted to a string by the Request constructor
  // (WebIDL's DOMString conversion of the BodyInit union).
  return bytesBody(Buffer.from(String(initBody), 'utf8'));
}

function isAsyncIterable(x: unknown): boolean {
  return x !== null && typeof x === 'object' && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

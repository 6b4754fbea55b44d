/**
 * Serialising an HTTP/1.1 request head (RFC 9112 §3, §5, §6). Everything
 * the caller gives is checked first: a CR or LF in a method, target, field
 * name or value would let one request be read as two (request smuggling),
 * so it is a TypeError and nothing is sent.
 */

import { checkField, checkMethod, checkTarget } from '../common/field-syntax.js';
import { entriesOf, type HeadersInit } from '../common/headers.js';

/** What a request head is made of. */
export interface RequestHeadInit {
  method: string;
  /** origin-form (`/path?q`), or absolute-form through a proxy (`http://host/path`), or authority-form for CONNECT. */
  target: string;
  /** The Host field value, used unless the caller gave one. */
  host: string;
  headers?: HeadersInit | undefined;
  /** Octets of the body when known; undefined for a streamed body, null for none. */
  bodyLength: number | undefined | null;
  /** Fields added after the caller's (proxy headers, upgrade). */
  extra?: ReadonlyArray<readonly [string, string]> | undefined;
}

/** A serialised head and how its body is to be framed. */
export interface RequestHead {
  bytes: Buffer;
  /** The body is sent with chunked transfer coding. */
  chunked: boolean;
  /** The head carries `Expect: 100-continue`: wait before sending the body. */
  expectContinue: boolean;
  /** Content-Length that the body must match, or -1. */
  contentLength: number;
  /** The caller sent `Connection: close`: the connection carries nothing after this (RFC 9112 §9.6). */
  close: boolean;
}

/** Methods whose requests say Content-Length: 0 when they carry no body (RFC 9110 §8.6). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Builds the head. Framing is ours to decide: a Transfer-Encoding from the
 * caller is dropped, and a Content-Length that disagrees with the body is
 * an error.
 *
 * @throws TypeError for an illegal method, target, field name or value.
 */
export function serialiseRequestHead(init: RequestHeadInit): RequestHead {
  const { method, target } = init;
  checkMethod(method);
  checkTarget(target);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hostSeen = false;
  let contentLength = -1;
  let expectContinue = false;
  let close = false;
  const lines: string[] = [];
  const add = (name: string, value: string): void => {
    checkField(name, value);
    const lower = name.toLowerCase();
    if (lower === 'host') {
      if (hostSeen) throw new TypeError('More than one Host header');
      hostSeen = true;
    } else if (lower === 'transfer-encoding') {
      return;
    } else if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw new TypeError(`Invalid Content-Length ${JSON.stringify(value)}`);
      const n = Number(value);
      if (contentLength !== -1 && n !== contentLength) throw new TypeError('Conflicting Content-Length headers');
      if (contentLength !== -1) return;
      contentLength = n;
    } else if (lower === 'expect' && value.toLowerCase() === '100-continue') {
      expectContinue = true;
    } else if (lower === 'connection' && value.split(',').some((t) => t.trim().toLowerCase() === 'close')) {
      close = true;
    }
    lines.push(`${name}: ${value}\r\n`);
  };
  if (init.headers !== undefined) for (const [name, value] of entriesOf(init.headers)) add(name, value);
  if (init.extra !== undefined) for (const [name, value] of init.extra) add(name, value);
  if (!hostSeen) head += `Host: ${init.host}\r\n`;
  const length = init.bodyLength;
  let chunked = false;
  if (length === null) {
    if (contentLength > 0) throw new TypeError(`Content-Length is ${contentLength} but the request has no body`);
    if (contentLength === -1 && BODY_METHODS.has(method.toUpperCase())) lines.push('Content-Length: 0\r\n');
    expectContinue = false;
  } else if (length !== undefined) {
    if (contentLength !== -1 && contentLength !== length) throw new TypeError(`Content-Length is ${contentLength} but the body has ${length} octets`);
    if (contentLength === -1) lines.push(`Content-Length: ${length}\r\n`);
    contentLength = length;
  } else if (contentLength === -1) {
    // A stream of unknown length (RFC 9112 §7.1).
    chunked = true;
    lines.push('Transfer-Encoding: chunked\r\n');
  }
  for (const line of lines) head += line;
  head += '\r\n';
  return { bytes: Buffer.from(head, 'latin1'), chunked, expectContinue, contentLength, close };
}

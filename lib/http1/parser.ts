/**
 * The HTTP/1.1 response parser (RFC 9112): a sans-IO state machine. Bytes go
 * in through {@link ResponseParser.execute} in any chunking; the status
 * line, header fields, body pieces, trailers and the end of each message
 * come out through a {@link ResponseHandler}. Body pieces are zero-copy
 * views of the input; only a line split across reads is copied.
 *
 * It is strict where laxness lets a response be read two ways (request
 * smuggling, response splitting): a malformed status line, header line or
 * chunk size, conflicting Content-Length, or a header section over the
 * limit is an {@link HTTP11Error}, and the connection must be closed.
 */

import { HTTP11Error } from '../common/errors.js';
import { CONTENT_LENGTH_INVALID, CONTENT_LENGTH_CONFLICTING, parseContentLength, TOKEN, trimOws } from '../common/field-syntax.js';
import { asLatin1Buffer, type Latin1Buffer, latin1String } from '../common/latin1.js';

/** Receives what the parser reads. */
export interface ResponseHandler {
  /**
   * A response head: a 1xx informational one (more follow) or the final one.
   * `version` is 10 or 11. Names keep the case the server sent.
   */
  onHead(status: number, reason: string, version: number, headers: Array<[string, string]>): void;
  /**
   * A piece of the body: a view of the input to execute(), not a copy. It
   * holds the body for as long as that input's memory is left alone: a
   * caller that reuses its buffer must copy pieces it keeps; socket reads,
   * which Node never reuses, may be kept as they are.
   */
  onData(chunk: Buffer): void;
  /** Trailer fields of a chunked body (only when there were some). */
  onTrailers(headers: Array<[string, string]>): void;
  /** The response is complete; `keepAlive` says whether the connection may carry another. */
  onEnd(keepAlive: boolean): void;
}

/** Options of {@link ResponseParser}. */
export interface ResponseParserOptions {
  /** Most octets in a head (status line and fields) or in a trailer section. Default 64 KiB. */
  maxHeaderSize?: number;
}

/** How the body of the message being read is delimited (RFC 9112 §6.3). */
const enum State {
  /** Between messages: expecting a status line. */
  IDLE,
  HEAD,
  BODY_LENGTH,
  BODY_CLOSE,
  CHUNK_SIZE,
  CHUNK_DATA,
  /** Expecting the CRLF after chunk data. */
  CHUNK_DATA_CR,
  CHUNK_DATA_LF,
  TRAILERS,
  /** The connection switched protocols (101, or a CONNECT tunnel): no more HTTP/1.1. */
  SWITCHED,
  /** An error was thrown: nothing more is read. */
  DEAD,
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
/** Chunk sizes up to 2^52 - 1 (13 hex digits): safe integers, with room. */
const MAX_CHUNK_SIZE_DIGITS = 13;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

/**
 * Parses the responses of one HTTP/1.1 connection, in order. Before each
 * response, {@link expect} says which method it answers (a HEAD response
 * has no body; a 2xx to CONNECT opens a tunnel).
 */
export class ResponseParser {
  private readonly handler: ResponseHandler;
  private readonly maxHeaderSize: number;
  private state = State.IDLE;
  private readonly methods: string[] = [];
  private method = '';
  /** The start of a line that did not end in the last input. */
  private partial: Buffer[] | null = null;
  /** Octets of the current head or trailer section so far. */
  private sectionBytes = 0;
  private remaining = 0;
  // The head being read.
  private status = 0;
  private reason = '';
  private version = 11;
  private fields: Array<[string, string]> = [];
  private keepAlive = true;

  constructor(handler: ResponseHandler, options: ResponseParserOptions = {}) {
    this.handler = handler;
    this.maxHeaderSize = options.maxHeaderSize ?? 65_536;
  }

  /** Queues the method of the next request sent, whose response comes after those already expected. */
  expect(method: string): void {
    this.methods.push(method);
  }

  /** Whether the parser is between messages with nothing partial buffered. */
  get idle(): boolean {
    return this.state === State.IDLE && this.partial === null;
  }

  /** Whether a close of the connection now would end the current body cleanly (a close-delimited body). */
  get readsUntilClose(): boolean {
    return this.state === State.BODY_CLOSE;
  }

  /**
   * Reads `chunk`. Returns -1 when all of it was HTTP/1.1, or the offset at
   * which another protocol begins (after a 101, or a 2xx to CONNECT): those
   * octets belong to the new protocol.
   *
   * @throws HTTP11Error on a malformed response; the parser is then dead.
   */
  execute(chunk: Buffer): number {
    try {
      return this.run(chunk);
    } catch (err) {
      this.state = State.DEAD;
      this.partial = null;
      throw err;
    }
  }

  /**
   * The connection closed. A close-delimited body ends here, unless the
   * close came from a socket error, `cause` (a reset): then it was cut
   * short (RFC 9112 §6.3, item 8). Anything else partial is an error too.
   *
   * @throws HTTP11Error when a response was incomplete.
   */
  finish(cause?: Error): void {
    const state = this.state;
    if (state === State.BODY_CLOSE) {
      if (cause !== undefined) {
        this.state = State.DEAD;
        throw new HTTP11Error('HW_ERR_H1_INCOMPLETE', `The connection failed in a close-delimited body: ${cause.message}`, { cause });
      }
      this.state = State.IDLE;
      this.handler.onEnd(false);
      return;
    }
    if (state === State.IDLE && this.partial === null) return;
    if (state === State.SWITCHED || state === State.DEAD) return;
    this.state = State.DEAD;
    this.partial = null;
    const where = state === State.IDLE || state === State.HEAD ? 'in the response head' : state === State.TRAILERS ? 'in the trailers' : 'in the body';
    throw new HTTP11Error('HW_ERR_H1_INCOMPLETE', `The connection closed ${where}: the response is incomplete`);
  }

  private run(input: Buffer): number {
    // Header strings are cut with latin1String, which needs Node's native slice.
    const chunk = asLatin1Buffer(input);
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.state) {
        case State.IDLE: {
          // Stray CRLFs between messages are tolerated (RFC 9112 §2.2).
          const c = chunk[pos]!;
          if (c === CR || c === LF) {
            pos++;
            continue;
          }
          const method = this.methods.shift();
          if (method === undefined) throw new HTTP11Error('HW_ERR_H1_UNSOLICITED', 'The server sent data when no response was due');
          this.method = method;
          this.beginHead();
          this.state = State.HEAD;
          continue;
        }
        case State.HEAD:
        case State.TRAILERS:
        case State.CHUNK_SIZE: {
          const nl = chunk.indexOf(LF, pos);
          if (nl === -1) {
            this.stash(chunk, pos, end);
            return -1;
          }
          let line: Latin1Buffer;
          let start: number;
          let stop = nl;
          this.count(nl + 1 - pos);
          if (this.partial !== null) {
            this.partial.push(chunk.subarray(pos, nl));
            line = Buffer.concat(this.partial) as Latin1Buffer;
            this.partial = null;
            start = 0;
            stop = line.length;
          } else {
            line = chunk;
            start = pos;
          }
          pos = nl + 1;
          // RFC 9112 §2.2: CRLF ends a line; a bare LF is accepted.
          if (stop > start && line[stop - 1] === CR) stop--;
          if (this.state === State.CHUNK_SIZE) this.chunkSizeLine(line, start, stop);
          else if (this.state === State.HEAD) {
            if (this.headLine(line, start, stop) && (this.state as State) === State.SWITCHED) return pos;
          } else this.trailerLine(line, start, stop);
          continue;
        }
        case State.BODY_LENGTH: {
          const piece = this.take(chunk, pos);
          pos += piece.length;
          if (this.remaining === 0) this.state = State.IDLE;
          this.handler.onData(piece);
          if (this.state === State.IDLE) this.handler.onEnd(this.keepAlive);
          continue;
        }
        case State.BODY_CLOSE: {
          const piece = pos === 0 ? chunk : chunk.subarray(pos);
          pos = end;
          this.handler.onData(piece);
          continue;
        }
        case State.CHUNK_DATA: {
          const piece = this.take(chunk, pos);
          pos += piece.length;
          if (this.remaining === 0) this.state = State.CHUNK_DATA_CR;
          this.handler.onData(piece);
          continue;
        }
        case State.CHUNK_DATA_CR: {
          const c = chunk[pos++];
          if (c === CR) this.state = State.CHUNK_DATA_LF;
          else if (c === LF) this.state = State.CHUNK_SIZE;
          else throw new HTTP11Error('HW_ERR_H1_CHUNK', 'Chunk data is not followed by CRLF (RFC 9112 §7.1)');
          continue;
        }
        case State.CHUNK_DATA_LF: {
          if (chunk[pos++] !== LF) throw new HTTP11Error('HW_ERR_H1_CHUNK', 'Chunk data is not followed by CRLF (RFC 9112 §7.1)');
          this.state = State.CHUNK_SIZE;
          continue;
        }
        case State.SWITCHED:
          return pos;
        case State.DEAD:
          throw new HTTP11Error('HW_ERR_H1_DEAD', 'The parser failed earlier; the connection must be closed');
      }
    }
    return -1;
  }

  /** Up to `remaining` body octets from `pos`: a view, or the whole input when it is all body. */
  private take(chunk: Buffer, pos: number): Buffer {
    const n = Math.min(this.remaining, chunk.length - pos);
    this.remaining -= n;
    return pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n);
  }

  private beginHead(): void {
    this.sectionBytes = 0;
    this.status = 0;
    this.fields = [];
  }

  /** Counts octets of a head, trailer section or chunk-size line against the limit. */
  private count(n: number): void {
    this.sectionBytes += n;
    if (this.sectionBytes > this.maxHeaderSize) {
      const what = this.state === State.CHUNK_SIZE ? 'A chunk-size line' : this.state === State.TRAILERS ? 'The trailer section' : 'The response head';
      throw new HTTP11Error('HW_ERR_H1_HEADER_SIZE', `${what} is over the ${this.maxHeaderSize}-octet limit`);
    }
  }

  /** Keeps the start of a line that continues in the next input. */
  private stash(chunk: Buffer, pos: number, end: number): void {
    this.count(end - pos);
    // Copied (the caller may reuse its buffer), and joined only when the
    // line ends: a line trickling in byte by byte costs linear time.
    const rest = Buffer.from(chunk.subarray(pos, end));
    if (this.partial === null) this.partial = [rest];
    else this.partial.push(rest);
  }

  /** One line of the head. Returns true when the head ended. */
  private headLine(line: Latin1Buffer, start: number, stop: number): boolean {
    if (this.status === 0) {
      this.statusLine(line, start, stop);
      return false;
    }
    if (stop === start) {
      this.endHead();
      return true;
    }
    this.fieldLine(line, start, stop, this.fields);
    return false;
  }

  /** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). */
  private statusLine(line: Latin1Buffer, start: number, stop: number): void {
    const len = stop - start;
    // "HTTP/1.1 200" is the shortest; the space before an empty reason is
    // optional in practice.
    if (
      len < 12 ||
      line[start] !== 0x48 ||
      line[start + 1] !== 0x54 ||
      line[start + 2] !== 0x54 ||
      line[start + 3] !== 0x50 ||
      line[start + 4] !== 0x2f ||
      line[start + 5] !== 0x31 ||
      line[start + 6] !== 0x2e ||
      !isDigit(line[start + 7]!) ||
      line[start + 8] !== SP ||
      !isDigit(line[start + 9]!) ||
      !isDigit(line[start + 10]!) ||
      !isDigit(line[start + 11]!) ||
      (len > 12 && line[start + 12] !== SP)
    ) {
      throw new HTTP11Error('HW_ERR_H1_STATUS_LINE', `Malformed status line ${JSON.stringify(line.toString('latin1', start, Math.min(stop, start + 64)))} (RFC 9112 §4)`);
    }
    const status = (line[start + 9]! - 0x30) * 100 + (line[start + 10]! - 0x30) * 10 + (line[start + 11]! - 0x30);
    if (status < 100 || status > 599) throw new HTTP11Error('HW_ERR_H1_STATUS_LINE', `Status code ${status} is out of range (RFC 9110 §15)`);
    for (let i = start + 13; i < stop; i++) {
      const c = line[i]!;
      if (c === CR || c === 0 || c === LF) throw new HTTP11Error('HW_ERR_H1_STATUS_LINE', 'A CR or NUL in the reason phrase (RFC 9112 §4)');
    }
    // HTTP/1.0 and 1.1; a later 1.x is read as 1.1 (RFC 9110 §2.5).
    this.version = line[start + 7] === 0x30 ? 10 : 11;
    this.status = status;
    this.reason = len > 13 ? latin1String(line, start + 13, len - 13) : '';
  }

  /** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
  private fieldLine(line: Latin1Buffer, start: number, stop: number, into: Array<[string, string]>): void {
    const first = line[start]!;
    if (first === SP || first === HT) {
      // obs-fold: a user agent replaces it with SP (RFC 9112 §5.2).
      const last = into[into.length - 1];
      if (last === undefined) throw new HTTP11Error('HW_ERR_H1_HEADER', 'A folded line with no field before it (RFC 9112 §5.2)');
      const more = fieldValue(line, start, stop);
      last[1] = last[1].length === 0 ? more : more.length === 0 ? last[1] : `${last[1]} ${more}`;
      return;
    }
    let i = start;
    while (i < stop) {
      const c = line[i]!;
      if (c === 0x3a) break;
      // No whitespace between name and colon (RFC 9112 §5.1), and only token characters.
      if (c >= 128 || TOKEN[c] === 0) {
        throw new HTTP11Error('HW_ERR_H1_HEADER', `Invalid field name in ${JSON.stringify(line.toString('latin1', start, Math.min(stop, start + 64)))} (RFC 9112 §5.1)`);
      }
      i++;
    }
    if (i === stop || i === start) {
      throw new HTTP11Error('HW_ERR_H1_HEADER', `Malformed field line ${JSON.stringify(line.toString('latin1', start, Math.min(stop, start + 64)))} (RFC 9112 §5)`);
    }
    into.push([latin1String(line, start, i - start), fieldValue(line, i + 1, stop)]);
  }

  private endHead(): void {
    const status = this.status;
    const fields = this.fields;
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = false;
    let keepAliveToken = false;
    let upgrade = false;
    for (let i = 0; i < fields.length; i++) {
      const [name, value] = fields[i]!;
      const len = name.length;
      if (len === 14 && name.toLowerCase() === 'content-length') {
        // Digits, or a list of identical values, which RFC 9110 §8.6 lets a
        // recipient read as one. Anything else is an error.
        const n = parseContentLength(value);
        if (n === CONTENT_LENGTH_INVALID) throw new HTTP11Error('HW_ERR_H1_CONTENT_LENGTH', `Invalid Content-Length ${JSON.stringify(value.slice(0, 40))} (RFC 9110 §8.6)`);
        if (n === CONTENT_LENGTH_CONFLICTING) throw new HTTP11Error('HW_ERR_H1_CONTENT_LENGTH', `Conflicting Content-Length values ${JSON.stringify(value.slice(0, 40))} (RFC 9110 §8.6)`);
        if (contentLength !== -1 && n !== contentLength) {
          throw new HTTP11Error('HW_ERR_H1_CONTENT_LENGTH', `Conflicting Content-Length values (RFC 9110 §8.6)`);
        }
        contentLength = n;
      } else if (len === 17 && name.toLowerCase() === 'transfer-encoding') {
        transferEncoding = true;
        // chunked must be the final coding (RFC 9112 §6.3, item 4). Empty list
        // elements are ignored (RFC 9110 §5.6.1), so "chunked," is chunked.
        // Several field lines form one list (RFC 9110 §5.3): a line with no
        // coding in it changes nothing.
        const codings = value.split(',').map(trimOws).filter((c) => c.length > 0);
        if (codings.length > 0) chunked = codings[codings.length - 1]!.toLowerCase() === 'chunked';
      } else if (len === 10 && name.toLowerCase() === 'connection') {
        for (const token of value.split(',')) {
          const t = trimOws(token).toLowerCase();
          if (t === 'close') close = true;
          else if (t === 'keep-alive') keepAliveToken = true;
          else if (t === 'upgrade') upgrade = true;
        }
      }
    }
    this.handler.onHead(status, this.reason, this.version, fields);
    if (this.state === State.DEAD) return;
    if (status < 200) {
      if (status === 101) {
        // Switching Protocols (RFC 9110 §15.2.2): what follows is the new protocol.
        if (!upgrade) throw new HTTP11Error('HW_ERR_H1_UPGRADE', 'A 101 response without Connection: upgrade (RFC 9110 §7.8)');
        this.state = State.SWITCHED;
        return;
      }
      // 1xx informational: the final response follows (RFC 9110 §15.2).
      // The interim heads share the head's size limit with it, so that an
      // endless run of them is an error rather than a busy loop.
      this.status = 0;
      this.fields = [];
      return;
    }
    if (this.method === 'CONNECT' && status < 300) {
      // A tunnel (RFC 9110 §9.3.6): the octets after the head are the tunnel's.
      this.state = State.SWITCHED;
      return;
    }
    this.keepAlive = this.version === 11 ? !close : keepAliveToken && !close;
    // RFC 9112 §6.3: the body length, in this order.
    if (this.method === 'HEAD' || status === 204 || status === 304) {
      this.state = State.IDLE;
      this.handler.onEnd(this.keepAlive);
      return;
    }
    if (transferEncoding) {
      // With both, Transfer-Encoding wins and the connection is not reused (§6.1).
      // Transfer-Encoding in an HTTP/1.0 message means faulty framing: close
      // the connection after it, even with Connection: keep-alive (RFC 9112 §6.1).
      if (contentLength !== -1 || this.version === 10) this.keepAlive = false;
      if (chunked) {
        this.state = State.CHUNK_SIZE;
        this.sectionBytes = 0;
        return;
      }
      this.keepAlive = false;
      this.state = State.BODY_CLOSE;
      return;
    }
    if (contentLength !== -1) {
      if (contentLength === 0) {
        this.state = State.IDLE;
        this.handler.onEnd(this.keepAlive);
        return;
      }
      this.remaining = contentLength;
      this.state = State.BODY_LENGTH;
      return;
    }
    this.keepAlive = false;
    this.state = State.BODY_CLOSE;
  }

  /** chunk-size [ chunk-ext ] (RFC 9112 §7.1). */
  private chunkSizeLine(line: Latin1Buffer, start: number, stop: number): void {
    // Each chunk-size line has the limit to itself.
    this.sectionBytes = 0;
    let size = 0;
    let i = start;
    // Leading zeros are allowed in any number and do not count as digits.
    while (i < stop && line[i] === 0x30) i++;
    const first = i;
    while (i < stop) {
      const d = HEX[line[i]!]!;
      if (d < 0) break;
      size = size * 16 + d;
      i++;
    }
    if (i === start) throw new HTTP11Error('HW_ERR_H1_CHUNK', `Malformed chunk size ${JSON.stringify(line.toString('latin1', start, Math.min(stop, start + 32)))} (RFC 9112 §7.1)`);
    if (i - first > MAX_CHUNK_SIZE_DIGITS) throw new HTTP11Error('HW_ERR_H1_CHUNK', 'Chunk size too large (RFC 9112 §7.1)');
    // Only whitespace before an extension; the extension is ignored.
    while (i < stop && (line[i] === SP || line[i] === HT)) i++;
    if (i < stop && line[i] !== 0x3b) throw new HTTP11Error('HW_ERR_H1_CHUNK', `Malformed chunk size ${JSON.stringify(line.toString('latin1', start, Math.min(stop, start + 32)))} (RFC 9112 §7.1)`);
    for (; i < stop; i++) {
      const c = line[i]!;
      if (c === 0 || c === CR) throw new HTTP11Error('HW_ERR_H1_CHUNK', 'A CR or NUL in a chunk extension (RFC 9112 §7.1.1)');
    }
    if (size === 0) {
      this.state = State.TRAILERS;
      this.sectionBytes = 0;
      this.fields = [];
      return;
    }
    this.remaining = size;
    this.state = State.CHUNK_DATA;
  }

  /** A trailer line, or the empty line that ends the message (RFC 9112 §7.1.2). */
  private trailerLine(line: Latin1Buffer, start: number, stop: number): void {
    if (stop > start) {
      this.fieldLine(line, start, stop, this.fields);
      return;
    }
    this.state = State.IDLE;
    if (this.fields.length > 0) this.handler.onTrailers(this.fields);
    if (this.state === State.IDLE) this.handler.onEnd(this.keepAlive);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A field value without surrounding whitespace; NUL or CR in it is an error (RFC 9110 §5.5). */
function fieldValue(line: Latin1Buffer, start: number, stop: number): string {
  while (start < stop && (line[start] === SP || line[start] === HT)) start++;
  while (stop > start && (line[stop - 1] === SP || line[stop - 1] === HT)) stop--;
  for (let i = start; i < stop; i++) {
    const c = line[i]!;
    if (c === 0 || c === CR) throw new HTTP11Error('HW_ERR_H1_HEADER', 'A CR or NUL in a field value (RFC 9110 §5.5)');
  }
  return latin1String(line, start, stop - start);
}

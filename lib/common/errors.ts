/**
 * The error hierarchy shared by every layer.
 *
 * Every error carries three things (see DESIGN.md, "Style"):
 * - `code`: a stable string such as `HW_ERR_FRAME_SIZE`, for programs;
 * - `errorCode`: the RFC 9113 §7 wire error code where there is one;
 * - `scope`: whether it hit the whole connection or one stream.
 *
 * This file is the bottom of the layering: it imports nothing.
 */

/** RFC 9113 §7 error codes, as sent in RST_STREAM and GOAWAY. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** A wire error code; unknown codes from a peer are kept as plain numbers (§7). */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number;

const ERROR_CODE_NAMES: readonly string[] = Object.keys(ErrorCode);

/** The RFC name of a wire error code, or `UNKNOWN_0x..` for codes the RFC does not define. */
export function errorCodeName(code: number): string {
  return ERROR_CODE_NAMES[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

/** Where an error applies: the whole connection, or a single stream. */
export type ErrorScope = 'connection' | 'stream';

/** Options common to every hyperwire error. */
export interface HyperwireErrorOptions {
  /** The RFC 9113 wire error code, if the error maps to one. */
  errorCode?: number | undefined;
  /** Defaults to `'connection'`. */
  scope?: ErrorScope | undefined;
  /** The stream the error concerns, for stream-scoped errors. */
  streamId?: number | undefined;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Base class of every error hyperwire throws or rejects with. */
export class HyperwireError extends Error {
  /** A stable machine-readable code, e.g. `HW_ERR_FRAME_SIZE`. */
  readonly code: string;
  /** The RFC 9113 §7 wire error code, or `undefined` when none applies. */
  readonly errorCode: number | undefined;
  /** Whether this error hit the whole connection or one stream. */
  readonly scope: ErrorScope;
  /** The stream concerned, for stream-scoped errors. */
  readonly streamId: number | undefined;

  constructor(code: string, message: string, options: HyperwireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.errorCode = options.errorCode;
    this.scope = options.scope ?? 'connection';
    this.streamId = options.streamId;
  }
}

/** Base class of errors raised by the HTTP/2 layers (frames, HPACK, the session). */
export class HTTP20Error extends HyperwireError {}

/**
 * The peer broke a rule of RFC 9113. `errorCode` says which wire code to send
 * (PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR, ...).
 */
export class ProtocolError extends HTTP20Error {}

/** A frame was longer or shorter than its type or SETTINGS_MAX_FRAME_SIZE allows (RFC 9113 §4.2). */
export class FrameSizeError extends ProtocolError {
  constructor(message: string, options: Omit<HyperwireErrorOptions, 'errorCode'> = {}) {
    super('HW_ERR_FRAME_SIZE', message, { ...options, errorCode: ErrorCode.FRAME_SIZE_ERROR });
  }
}

/**
 * A header block could not be decoded (RFC 7541). A connection error with
 * COMPRESSION_ERROR (RFC 9113 §4.3) unless said otherwise: the shared dynamic
 * table can no longer be trusted to be in step with the peer's.
 */
export class HPACKDecodingError extends HTTP20Error {
  constructor(message: string, code = 'HW_ERR_HPACK_DECODE', options: HyperwireErrorOptions = {}) {
    super(code, message, { errorCode: ErrorCode.COMPRESSION_ERROR, scope: 'connection', ...options });
  }
}

/**
 * A decoded header list grew past the decoder's `maxHeaderListSize`
 * (RFC 9113 §6.5.2, §10.5.1). The decoder still read the rest of the block,
 * so its dynamic table stays in step with the peer's: only the one stream is
 * lost, as a malformed message (RFC 9113 §8.1.1), not the connection.
 */
export class HeaderListSizeError extends HPACKDecodingError {
  constructor(message: string, options: Omit<HyperwireErrorOptions, 'scope' | 'errorCode'> = {}) {
    super(message, 'HW_ERR_HEADER_LIST_SIZE', { ...options, scope: 'stream', errorCode: ErrorCode.PROTOCOL_ERROR });
  }
}

/** The caller asked the encoder for something it cannot encode. Nothing was emitted. */
export class HPACKEncodingError extends HTTP20Error {
  constructor(message: string, code = 'HW_ERR_HPACK_ENCODE') {
    super(code, message, { scope: 'connection' });
  }
}

/**
 * The connection is gone: the socket failed or closed, the peer sent GOAWAY
 * with an error, or we ended it over a protocol error. Every outstanding call
 * on the connection rejects with one of these (or a subclass). Both
 * protocols raise it, so it sits directly under {@link HyperwireError}.
 */
export class ConnectionError extends HyperwireError {
  constructor(code: string, message: string, options: HyperwireErrorOptions = {}) {
    super(code, message, { scope: 'connection', ...options });
  }
}

/**
 * A new connection could not be made: the name did not resolve, or the
 * server refused or reset the connect (urllib3's NewConnectionError).
 * Nothing was sent, so a pool may retry it under `Retry.connect`.
 */
export class NewConnectionError extends ConnectionError {
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super('HW_ERR_CONNECT', message, options);
  }
}

/** The peer reset the stream with RST_STREAM; `errorCode` is the code it sent. */
export class StreamResetError extends HTTP20Error {
  constructor(message: string, options: HyperwireErrorOptions & { streamId: number }) {
    super('HW_ERR_STREAM_RESET', message, { ...options, scope: 'stream' });
  }
}

/**
 * The server did not process the request, so it is safe to send again on
 * another connection: the stream was above the last-stream-id of a GOAWAY
 * (RFC 9113 §6.8), or was refused with REFUSED_STREAM (§8.7).
 */
export class StreamRefusedError extends HTTP20Error {
  /** Always true: the request was not processed. */
  readonly retryable = true;
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super('HW_ERR_STREAM_REFUSED', message, { scope: 'stream', ...options });
  }
}

/** A connect or a read waited longer than the `timeout` option allows. */
export class TimeoutError extends HyperwireError {
  constructor(message: string, options: HyperwireErrorOptions = {}, code = 'HW_ERR_TIMEOUT') {
    super(code, message, { scope: 'connection', ...options });
  }
}

/**
 * Connecting (TCP, a proxy's CONNECT, the TLS handshake) took longer than
 * the connect timeout. Nothing was sent.
 */
export class ConnectTimeoutError extends TimeoutError {
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super(message, options, 'HW_ERR_CONNECT_TIMEOUT');
  }
}

/**
 * The server went quiet for longer than the read timeout while a response
 * (its head or its body) was awaited. The request may have been processed.
 */
export class ReadTimeoutError extends TimeoutError {
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super(message, options, 'HW_ERR_READ_TIMEOUT');
  }
}

/**
 * The caller aborted the request with its AbortSignal. Its `name` is
 * `'AbortError'`, as code that checks for DOM aborts expects; `cause` is
 * the signal's reason.
 */
export class RequestAbortedError extends HyperwireError {
  constructor(message = 'The request was aborted', options: HyperwireErrorOptions = {}) {
    super('HW_ERR_ABORTED', message, { scope: 'stream', ...options });
    this.name = 'AbortError';
  }
}

/** The error for an aborted signal: its reason when that is already ours, else a RequestAbortedError carrying it. */
export function abortError(signal: AbortSignal): HyperwireError {
  const reason: unknown = signal.reason;
  return reason instanceof HyperwireError ? reason : new RequestAbortedError('The request was aborted', { cause: reason });
}

/** TLS set-up failed, or ALPN did not select the protocol required. */
export class TLSError extends HyperwireError {
  constructor(code: string, message: string, options: HyperwireErrorOptions = {}) {
    super(code, message, { scope: 'connection', ...options });
  }
}

/** urllib3's name for a TLS failure: the same class as {@link TLSError}. */
export const SSLError = TLSError;
/** urllib3's name for a TLS failure: the same class as {@link TLSError}. */
export type SSLError = TLSError;

/**
 * A response body could not be decoded with its Content-Encoding (gzip,
 * deflate or br): it is corrupt or not what the header says.
 */
export class DecodeError extends HyperwireError {
  constructor(message: string, options: HyperwireErrorOptions = {}) {
    super('HW_ERR_DECODE', message, { scope: 'stream', ...options });
  }
}

/**
 * An HTTP/1.1 server sent something RFC 9112 does not allow: a malformed
 * status line, header line or chunk size, conflicting Content-Length, a
 * header section over the limit, or a body cut short. The connection is
 * closed, since its framing can no longer be trusted (RFC 9112 §11.2).
 */
export class HTTP11Error extends HyperwireError {
  constructor(code: string, message: string, options: HyperwireErrorOptions = {}) {
    super(code, message, { scope: 'connection', ...options });
  }
}

/**
 * A proxy refused the tunnel (`status` is the status it answered CONNECT
 * with; 407 asks for Proxy-Authorization), or could not be reached or
 * spoken to (`status` 0, `cause` the underlying error). Nothing reached
 * the origin.
 */
export class ProxyError extends HyperwireError {
  /** The proxy's status code, or 0 when it gave none. */
  readonly status: number;
  constructor(message: string, status: number, options: HyperwireErrorOptions & { code?: string } = {}) {
    const { code = 'HW_ERR_PROXY', ...rest } = options;
    super(code, message, { scope: 'connection', ...rest });
    this.status = status;
  }
}

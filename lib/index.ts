/**
 * hyperwire: an HTTP/2-first HTTP client for Node.js.
 *
 * This module is the public surface and nothing else: every name a user or a
 * tool built on hyperwire may rely on is exported from here.
 */

// Errors.
export {
  ErrorCode,
  errorCodeName,
  FrameSizeError,
  HeaderListSizeError,
  HPACKDecodingError,
  HPACKEncodingError,
  HTTP20Error,
  HyperwireError,
  ProtocolError,
} from './common/errors.js';
export type { ErrorCodeValue, ErrorScope, HyperwireErrorOptions } from './common/errors.js';

// The frame codec (RFC 9113 §4, §6).
export * from './frame/index.js';

// HPACK (RFC 7541).
export * from './hpack/index.js';

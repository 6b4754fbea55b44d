/**
 * Constructors for the errors the frame reader raises, so that every one
 * carries its stable `code`, its RFC 9113 wire code and its scope in the same
 * way. Nothing here is thrown for "need more bytes": that is not an error.
 */

import { ErrorCode, FrameSizeError, ProtocolError } from '../common/errors.js';

/** A frame's stream identifier is not allowed for its type (§6). */
export const ERR_STREAM_ID = 'HW_ERR_STREAM_ID';
/** A Pad Length that does not fit in the frame (§6.1, §6.2, §6.6). */
export const ERR_BAD_PADDING = 'HW_ERR_BAD_PADDING';

/**
 * FRAME_SIZE_ERROR (§4.2). Connection scope unless `streamId` is given: only
 * PRIORITY's wrong length is a stream error (§6.3); every other frame-size
 * error in this layer is on a frame that can alter connection state.
 */
export function frameSizeError(message: string, streamId?: number): FrameSizeError {
  return streamId === undefined
    ? new FrameSizeError(message, { scope: 'connection' })
    : new FrameSizeError(message, { scope: 'stream', streamId });
}

/** PROTOCOL_ERROR on the whole connection, with a more specific `code`. */
export function connectionProtocolError(code: string, message: string): ProtocolError {
  return new ProtocolError(code, message, { errorCode: ErrorCode.PROTOCOL_ERROR, scope: 'connection' });
}

/** The frame codec layer (RFC 9113 §4, §6): constants, frame value types, encoders and the incremental reader. */

export {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_HEADER_LENGTH,
  Flag,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  MAX_PADDING,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  SETTING_ENTRY_LENGTH,
  SettingId,
  frameTypeName,
} from './constants.js';
export type { ExtensionFrameType, KnownFrameType } from './constants.js';
export type {
  ContinuationFrame,
  DataFrame,
  Frame,
  GoawayFrame,
  HeadersFrame,
  KnownFrame,
  PingFrame,
  PriorityFrame,
  PushPromiseFrame,
  RstStreamFrame,
  SettingsEntry,
  SettingsFrame,
  UnknownFrame,
  WindowUpdateFrame,
} from './types.js';
export {
  encodeDataFrameHeader,
  encodeFrame,
  encodeFrameInto,
  encodedFrameLength,
  writeFrameHeader,
  zeroPadding,
} from './encode.js';
export { FrameReader } from './reader.js';
export type { FrameReaderOptions } from './reader.js';
export { ERR_BAD_PADDING, ERR_STREAM_ID } from './frame-errors.js';

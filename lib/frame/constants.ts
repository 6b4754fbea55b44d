/**
 * Wire constants of the HTTP/2 framing layer (RFC 9113 §4, §6, §11.2).
 *
 * Plain `as const` objects rather than TypeScript enums: they erase to
 * ordinary property reads, work under `isolatedModules`, and keep the
 * numeric values visible at the use site.
 */

/** Frame type codes (RFC 9113 §6, §11.2). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** One of the frame type codes RFC 9113 defines. */
export type KnownFrameType = (typeof FrameType)[keyof typeof FrameType];

/** Builds the union `0 | 1 | ... | N-1` (tail-recursive, so N up to 999 is fine). */
type Enumerate<N extends number, Acc extends number[] = []> = Acc['length'] extends N
  ? Acc[number]
  : Enumerate<N, [...Acc, Acc['length']]>;

/**
 * A frame type code RFC 9113 does not define (10..255): an extension frame
 * (ALTSVC, ORIGIN, ...), or one we do not know. A literal union rather than
 * `number` so that `Frame` stays a discriminated union on `type`: in a
 * `switch (frame.type)` each known case narrows to its frame interface and
 * `default` narrows to `UnknownFrame`.
 */
export type ExtensionFrameType = Exclude<Enumerate<256>, Enumerate<10>>;

/**
 * Flag bits (RFC 9113 §6). The same bit means different things on different
 * frame types (END_STREAM and ACK are both 0x1), so these are plain numbers to
 * be tested against the `flags` byte of a frame of the right type.
 */
export const Flag = {
  /** DATA, HEADERS: the last frame the sender will send on this stream (§6.1, §6.2). */
  END_STREAM: 0x1,
  /** SETTINGS, PING: this frame acknowledges the peer's (§6.5, §6.7). */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends with this frame (§6.2, §6.6, §6.10). */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE: a Pad Length octet and padding are present (§6.1). */
  PADDED: 0x8,
  /** HEADERS: Exclusive, Stream Dependency and Weight are present (§6.2). */
  PRIORITY: 0x20,
} as const;

/** SETTINGS parameter identifiers (RFC 9113 §6.5.2; RFC 8441 §3 for ENABLE_CONNECT_PROTOCOL). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

/** Every frame starts with a 9-octet header (RFC 9113 §4.1). */
export const FRAME_HEADER_LENGTH = 9;

/** The initial SETTINGS_MAX_FRAME_SIZE, and the smallest value it may take (§6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

/** The largest SETTINGS_MAX_FRAME_SIZE, fixed by the 24-bit Length field (§4.1, §6.5.2). */
export const MAX_FRAME_SIZE_LIMIT = 2 ** 24 - 1;

/** The largest flow-control window, and the largest WINDOW_UPDATE increment (§6.9). */
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;

/** The largest stream identifier: 31 bits, the high bit being reserved (§4.1, §5.1.1). */
export const MAX_STREAM_ID = 2 ** 31 - 1;

/** The largest Pad Length (an 8-bit field, §6.1). */
export const MAX_PADDING = 255;

/** Every SETTINGS parameter is a 16-bit identifier and a 32-bit value (§6.5.1). */
export const SETTING_ENTRY_LENGTH = 6;

/** The client connection preface, sent before the first SETTINGS frame (RFC 9113 §3.4). */
export const CONNECTION_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const FRAME_TYPE_NAMES: readonly string[] = Object.keys(FrameType);

/** The RFC name of a frame type (`DATA`, ...), or `UNKNOWN_0x..` for extension types; for messages and logs. */
export function frameTypeName(type: number): string {
  return FRAME_TYPE_NAMES[type] ?? `UNKNOWN_0x${type.toString(16)}`;
}

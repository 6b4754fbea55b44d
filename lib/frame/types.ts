/**
 * Value types for every RFC 9113 frame type (§6), as a discriminated union on
 * `type`, which is always the frame's wire type octet.
 *
 * Conventions shared by every frame:
 * - `flags` is the raw flags octet, undefined bits included, so that
 *   decode -> encode is byte-exact (§4.1: undefined flags are ignored on
 *   receipt and left unset on sending; keeping them lets us round-trip a peer's
 *   frame exactly). Test bits with `Flag`.
 * - `streamId` is the 31-bit stream identifier; the reserved high bit is
 *   masked off on read (§4.1) and cannot be set on write.
 * - Byte fields (`data`, `headerBlockFragment`, ...) are `Uint8Array`s for the
 *   encoder's sake; `FrameReader` produces `Buffer`s, usually zero-copy views
 *   of the chunk they arrived in (so do not keep them past the point where you
 *   would keep that chunk).
 * - `FrameReader` creates each frame as one object literal with every field
 *   present, in the order declared here, so every frame of a type shares one
 *   hidden class.
 *
 * Padding (DATA, HEADERS, PUSH_PROMISE, §6.1): `padding` is the number of
 * padding octets. The reader reports the Pad Length it saw (0 when PADDED is
 * clear). The encoder writes a Pad Length octet and that many zero octets when
 * `padding > 0` or PADDED is set in `flags` (so "PADDED with Pad Length 0"
 * round-trips), setting PADDED itself.
 */

import type { ExtensionFrameType, FrameType } from './constants.js';

/** A SETTINGS parameter as sent: `[identifier, value]` (§6.5.1). */
export type SettingsEntry = readonly [id: number, value: number];

/** DATA (§6.1). */
export interface DataFrame {
  readonly type: typeof FrameType.DATA;
  readonly flags: number;
  readonly streamId: number;
  /** Padding octets after the data (0..255). */
  readonly padding: number;
  readonly data: Uint8Array;
}

/** HEADERS (§6.2). */
export interface HeadersFrame {
  readonly type: typeof FrameType.HEADERS;
  readonly flags: number;
  readonly streamId: number;
  /** Padding octets after the fragment (0..255). */
  readonly padding: number;
  /**
   * The priority fields (§5.3.2 of RFC 7540, deprecated by RFC 9113 §5.3.2)
   * are on the wire only when `flags` has PRIORITY. Without it the reader
   * fills in the RFC 7540 defaults (false, 0, 16) and the encoder ignores them.
   */
  readonly exclusive: boolean;
  readonly streamDependency: number;
  /** The weight itself, 1..256 (the wire carries weight - 1). */
  readonly weight: number;
  readonly headerBlockFragment: Uint8Array;
}

/** PRIORITY (§6.3). */
export interface PriorityFrame {
  readonly type: typeof FrameType.PRIORITY;
  readonly flags: number;
  readonly streamId: number;
  readonly exclusive: boolean;
  readonly streamDependency: number;
  /** 1..256. */
  readonly weight: number;
}

/** RST_STREAM (§6.4). */
export interface RstStreamFrame {
  readonly type: typeof FrameType.RST_STREAM;
  readonly flags: number;
  readonly streamId: number;
  /** A 32-bit error code; unknown codes are kept as numbers (§7). */
  readonly errorCode: number;
}

/** SETTINGS (§6.5). */
export interface SettingsFrame {
  readonly type: typeof FrameType.SETTINGS;
  readonly flags: number;
  readonly streamId: number;
  /** The ACK flag. The encoder sets ACK when this is true or when `flags` has it. */
  readonly ack: boolean;
  /**
   * The parameters in wire order, duplicates and unknown identifiers kept
   * (§6.5.2: unknown ones MUST be ignored, which is the engine's call). Values
   * are not range-checked here: that is the engine's job (§6.5.2).
   */
  readonly settings: readonly SettingsEntry[];
}

/** PUSH_PROMISE (§6.6). */
export interface PushPromiseFrame {
  readonly type: typeof FrameType.PUSH_PROMISE;
  readonly flags: number;
  readonly streamId: number;
  /** Padding octets after the fragment (0..255). */
  readonly padding: number;
  /** 31 bits; the reserved bit is masked off on read. */
  readonly promisedStreamId: number;
  readonly headerBlockFragment: Uint8Array;
}

/** PING (§6.7). */
export interface PingFrame {
  readonly type: typeof FrameType.PING;
  readonly flags: number;
  readonly streamId: number;
  /** The ACK flag. The encoder sets ACK when this is true or when `flags` has it. */
  readonly ack: boolean;
  /** Exactly 8 octets. */
  readonly opaqueData: Uint8Array;
}

/** GOAWAY (§6.8). */
export interface GoawayFrame {
  readonly type: typeof FrameType.GOAWAY;
  readonly flags: number;
  readonly streamId: number;
  /** 31 bits; the reserved bit is masked off on read. */
  readonly lastStreamId: number;
  /** A 32-bit error code; unknown codes are kept as numbers (§7). */
  readonly errorCode: number;
  readonly debugData: Uint8Array;
}

/** WINDOW_UPDATE (§6.9). */
export interface WindowUpdateFrame {
  readonly type: typeof FrameType.WINDOW_UPDATE;
  readonly flags: number;
  /** 0 for the connection window. */
  readonly streamId: number;
  /**
   * 31 bits, reserved bit masked off. 0 is decoded and encodable: whether it
   * is a stream or a connection error (§6.9) is the engine's decision.
   */
  readonly windowSizeIncrement: number;
}

/** CONTINUATION (§6.10). */
export interface ContinuationFrame {
  readonly type: typeof FrameType.CONTINUATION;
  readonly flags: number;
  readonly streamId: number;
  readonly headerBlockFragment: Uint8Array;
}

/**
 * A frame of a type RFC 9113 does not define (§4.1: "Implementations MUST
 * ignore and discard frames of unknown types"; §5.5). Kept opaque, so that the
 * engine can ignore it and extensions can read it.
 */
export interface UnknownFrame {
  /** The wire type octet, 10..255. */
  readonly type: ExtensionFrameType;
  readonly flags: number;
  /** Any value, 0 included: only the extension knows the rules. */
  readonly streamId: number;
  readonly payload: Uint8Array;
}

/** A frame type RFC 9113 defines. */
export type KnownFrame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | ContinuationFrame;

/** Any frame; `switch (frame.type)` narrows it. */
export type Frame = KnownFrame | UnknownFrame;

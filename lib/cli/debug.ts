/**
 * The `--debug` log: one entry per HTTP/2 frame sent or received, in the
 * form `nghttp -v` prints, which people already read fluently:
 *
 * ```
 * [  0.012] send HEADERS frame <length=36, flags=0x05, stream_id=1>
 *           ; END_STREAM | END_HEADERS
 *           :method: GET [indexed static 2]
 *           ...
 *           ; HPACK: +3 entries, -0; dynamic table 3 entries, 158/4096 octets
 * ```
 *
 * Header blocks are decoded (after their last CONTINUATION), each field
 * marked with how it was represented, and followed by what the block did
 * to the dynamic table; SETTINGS parameters and error codes are named.
 * HTTP/1.1 heads are shown as they went. Times are seconds since the
 * command started.
 */

import { Flag, FrameType, SettingId, encodedFrameLength, frameTypeName, FRAME_HEADER_LENGTH, type Frame } from '../frame/index.js';
import { describeIndex, type TracedBlock, type TracedField } from './hpack-trace.js';
import type { Palette } from './palette.js';
import type { WireEvent } from './wire.js';

/** RFC 9113 §7 error codes by value. */
const ERROR_CODES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** SETTINGS parameter names by identifier (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1). */
const SETTING_NAMES = new Map<number, string>([
  ...Object.entries(SettingId).map(([name, id]): [number, string] => [id, `SETTINGS_${name}`]),
  [0x9, 'SETTINGS_NO_RFC7540_PRIORITIES'],
]);

/** Extension frame types worth naming (RFC 7838, RFC 8336, RFC 9218). */
const EXTENSION_NAMES = new Map<number, string>([
  [0xa, 'ALTSVC'],
  [0xc, 'ORIGIN'],
  [0x10, 'PRIORITY_UPDATE'],
]);

const INDENT = '          ';

function hex(n: number, width: number): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** `CANCEL(0x08)`, as nghttp writes error codes. */
export function errorCodeName(code: number): string {
  return `${ERROR_CODES[code] ?? 'UNKNOWN'}(${hex(code, 2)})`;
}

/** The flags a frame type defines that are set, by name. */
function flagNames(frame: Frame): string[] {
  const f = frame.flags;
  const names: string[] = [];
  switch (frame.type) {
    case FrameType.DATA:
      if (f & Flag.END_STREAM) names.push('END_STREAM');
      if (f & Flag.PADDED) names.push('PADDED');
      break;
    case FrameType.HEADERS:
      if (f & Flag.END_STREAM) names.push('END_STREAM');
      if (f & Flag.END_HEADERS) names.push('END_HEADERS');
      if (f & Flag.PADDED) names.push('PADDED');
      if (f & Flag.PRIORITY) names.push('PRIORITY');
      break;
    case FrameType.SETTINGS:
    case FrameType.PING:
      if (f & Flag.ACK) names.push('ACK');
      break;
    case FrameType.PUSH_PROMISE:
      if (f & Flag.END_HEADERS) names.push('END_HEADERS');
      if (f & Flag.PADDED) names.push('PADDED');
      break;
    case FrameType.CONTINUATION:
      if (f & Flag.END_HEADERS) names.push('END_HEADERS');
      break;
    default:
      break;
  }
  return names;
}

/** The frame's payload length: what the header said, since decode and encode are byte-exact. */
function payloadLength(frame: Frame): number | null {
  try {
    return encodedFrameLength(frame) - FRAME_HEADER_LENGTH;
  } catch {
    return null;
  }
}

/** The name of a frame's type, as nghttp prints it. */
export function frameName(type: number): string {
  return EXTENSION_NAMES.get(type) ?? frameTypeName(type);
}

/** The detail lines of a frame (without the block's fields). */
function frameDetails(frame: Frame): string[] {
  const lines: string[] = [];
  const names = flagNames(frame);
  if (names.length > 0) lines.push(`; ${names.join(' | ')}`);
  switch (frame.type) {
    case FrameType.DATA:
      if (frame.flags & Flag.PADDED) lines.push(`(padlen=${frame.padding})`);
      break;
    case FrameType.HEADERS: {
      const parts: string[] = [];
      if (frame.flags & Flag.PADDED) parts.push(`padlen=${frame.padding}`);
      if (frame.flags & Flag.PRIORITY) parts.push(`dep_stream_id=${frame.streamDependency}`, `weight=${frame.weight}`, `exclusive=${frame.exclusive ? 1 : 0}`);
      if (parts.length > 0) lines.push(`(${parts.join(', ')})`);
      break;
    }
    case FrameType.PRIORITY:
      lines.push(`(dep_stream_id=${frame.streamDependency}, weight=${frame.weight}, exclusive=${frame.exclusive ? 1 : 0})`);
      break;
    case FrameType.RST_STREAM:
      lines.push(`(error_code=${errorCodeName(frame.errorCode)})`);
      break;
    case FrameType.SETTINGS:
      if (!frame.ack) {
        lines.push(`(niv=${frame.settings.length})`);
        for (const [id, value] of frame.settings) lines.push(`[${SETTING_NAMES.get(id) ?? 'UNKNOWN'}(${hex(id, 2)}):${value}]`);
      }
      break;
    case FrameType.PUSH_PROMISE:
      lines.push(`(${frame.flags & Flag.PADDED ? `padlen=${frame.padding}, ` : ''}promised_stream_id=${frame.promisedStreamId})`);
      break;
    case FrameType.PING:
      lines.push(`(opaque_data=${Buffer.from(frame.opaqueData).toString('hex')})`);
      break;
    case FrameType.GOAWAY: {
      const debugData = Buffer.from(frame.debugData);
      lines.push(`(last_stream_id=${frame.lastStreamId}, error_code=${errorCodeName(frame.errorCode)}, opaque_data(${debugData.length})=[${printable(debugData.toString('latin1'))}])`);
      break;
    }
    case FrameType.WINDOW_UPDATE:
      lines.push(`(window_size_increment=${frame.windowSizeIncrement})`);
      break;
    default:
      break;
  }
  return lines;
}

/** How a field was represented, for the tag after it. */
function representationTag(field: TracedField): string {
  switch (field.representation) {
    case 'indexed':
      return `indexed ${describeIndex(field.index)}`;
    case 'incremental':
      return field.index === 0 ? 'literal, added' : `literal, added, name ${describeIndex(field.index)}`;
    case 'literal':
      return field.index === 0 ? 'literal' : `literal, name ${describeIndex(field.index)}`;
    case 'never-indexed':
      return field.index === 0 ? 'literal, never indexed' : `literal, never indexed, name ${describeIndex(field.index)}`;
  }
}

/** The dynamic table line after a block. */
export function hpackSummary(block: TracedBlock): string {
  const updates = block.sizeUpdates.length > 0 ? `size update${block.sizeUpdates.length > 1 ? 's' : ''} to ${block.sizeUpdates.join(', ')}; ` : '';
  return `; HPACK: ${updates}+${block.added} added, -${block.evicted} evicted; dynamic table ${block.entries} ${block.entries === 1 ? 'entry' : 'entries'}, ${block.size}/${block.maxSize} octets`;
}

/** Control characters made visible, so a header value cannot move the cursor. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `[  0.012]`: seconds, three decimals, as nghttp. */
export function timestamp(ms: number): string {
  return `[${(ms / 1000).toFixed(3).padStart(7)}]`;
}

/**
 * Formats trace events as `--debug` lines. With several connections (a
 * redirect elsewhere, an HTTP/1.1 origin opening a second one) each entry
 * names its connection; with one it does not, as nghttp.
 */
export class DebugFormatter {
  private readonly palette: Palette;
  private multiple = false;

  constructor(palette: Palette) {
    this.palette = palette;
  }

  /** The lines for one event, each ending in a newline. */
  format(event: WireEvent): string {
    const p = this.palette;
    if (event.conn > 1) this.multiple = true;
    const at = `${p.time(timestamp(event.time))} ${this.multiple ? p.detail(`#${event.conn} `) : ''}`;
    const lines: string[] = [];
    const detail = (line: string): void => {
      lines.push(INDENT + p.detail(line));
    };
    switch (event.kind) {
      case 'connected': {
        const how = event.upgraded ? 'upgraded from HTTP/1.1 (101 Switching Protocols)' : event.secure ? (event.protocol === 'h2' ? 'TLS, ALPN h2' : 'TLS') : event.protocol === 'h2' ? 'cleartext, prior knowledge' : 'cleartext';
        lines.push(`${at}${p.frame(event.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1')} connection to ${event.host}:${event.port} (${how})`);
        break;
      }
      case 'frame': {
        const f = event.frame;
        const length = payloadLength(f);
        const dir = event.direction === 'send' ? p.send('send') : p.recv('recv');
        lines.push(`${at}${dir} ${p.frame(`${frameName(f.type)} frame`)} <length=${length ?? '?'}, flags=${hex(f.flags, 2)}, stream_id=${f.streamId}>`);
        for (const line of frameDetails(f)) detail(line);
        const block = event.block;
        if (block !== null) {
          if ('error' in block) {
            detail(`; header block not decoded: ${block.error}`);
          } else {
            for (const field of block.fields) {
              lines.push(`${INDENT}${p.headerName(printable(field.name))}: ${printable(field.value)} ${p.detail(`[${representationTag(field)}]`)}`);
            }
            detail(hpackSummary(block));
          }
        }
        break;
      }
      case 'head-sent': {
        const head = event.head.replace(/\r\n\r\n$/, '');
        lines.push(`${at}${p.send('send')} ${p.frame('HTTP/1.1 request head')} <length=${event.head.length}>`);
        for (const line of head.split('\r\n')) lines.push(INDENT + printable(line));
        break;
      }
      case 'head-received': {
        lines.push(`${at}${p.recv('recv')} ${p.frame(`HTTP/${event.version} response head`)}`);
        lines.push(`${INDENT}HTTP/${event.version} ${event.status}${event.reason !== '' ? ` ${printable(event.reason)}` : ''}`);
        for (const [name, value] of event.headers) lines.push(`${INDENT}${p.headerName(printable(name))}: ${printable(value)}`);
        break;
      }
    }
    return lines.join('\n') + '\n';
  }
}

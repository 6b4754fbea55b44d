/**
 * diagnostics_channel channels published by the connections (HTTP/2 and
 * HTTP/1.1 alike). Messages carry `connection`, and `streamId` (null on
 * HTTP/1.1).
 */

import * as diagnosticsChannel from 'node:diagnostics_channel';

/** diagnostics_channel names published by the connections. */
export const channels = {
  requestStart: diagnosticsChannel.channel('hyperwire:request:start'),
  responseHeaders: diagnosticsChannel.channel('hyperwire:response:headers'),
  requestEnd: diagnosticsChannel.channel('hyperwire:request:end'),
  requestError: diagnosticsChannel.channel('hyperwire:request:error'),
  /**
   * HTTP/2 frames received and sent: `{ connection, frame }`, the frame
   * parsed (see the frame types). Published only for connections made
   * while something subscribed (or NODE_DEBUG named hyperwire): tracing
   * outgoing frames means parsing them back, from the connection's start.
   */
  frameReceived: diagnosticsChannel.channel('hyperwire:frame:received'),
  frameSent: diagnosticsChannel.channel('hyperwire:frame:sent'),
  /**
   * HTTP/1.1 heads: sent, `{ connection, head }` with the request head's
   * octets; received, `{ connection, version, status, reason, headers }`
   * (names as the server wrote them), interim (1xx) heads included.
   */
  headSent: diagnosticsChannel.channel('hyperwire:http1:head:sent'),
  headReceived: diagnosticsChannel.channel('hyperwire:http1:head:received'),
} as const;

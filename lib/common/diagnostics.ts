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
} as const;

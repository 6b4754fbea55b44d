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
  HTTP11Error,
  ProxyError,
  HyperwireError,
  ProtocolError,
} from './common/errors.js';
export type { ErrorCodeValue, ErrorScope, HyperwireErrorOptions } from './common/errors.js';

// The frame codec (RFC 9113 §4, §6).
export * from './frame/index.js';

// HPACK (RFC 7541).
export * from './hpack/index.js';

// Errors of the connection layers.
export {
  ConnectionError,
  ConnectTimeoutError,
  DecodeError,
  NewConnectionError,
  ReadTimeoutError,
  RequestAbortedError,
  SSLError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
  TLSError,
} from './common/errors.js';

// Headers and bodies.
export { HTTPHeaderMap } from './common/headers.js';
export type { HeadersInit } from './common/headers.js';
export type { RequestBody } from './common/body.js';

// HTTP/2.
export { HTTP20Connection } from './http2/connection.js';
export type { HTTP20ConnectionOptions, RequestOptions } from './http2/connection.js';
export { channels } from './common/diagnostics.js';
export type { Timeouts } from './common/net.js';
export { HTTP20Response } from './http2/response.js';
export { BaseResponse } from './common/response.js';
export type { ReadOptions } from './common/response.js';
export { HTTP20Push } from './http2/push.js';
export { ClientSession } from './http2/session.js';
export type { SessionEvent, SessionOptions, StreamState } from './http2/session.js';
export { BaseFlowControlManager, FlowControlManager } from './http2/window.js';
export type { WindowManagerClass } from './http2/window.js';

// HTTP/1.1.
export { HTTP11Connection } from './http1/connection.js';
export type { HTTP11ConnectionOptions, HTTP11RequestOptions } from './http1/connection.js';
export { HTTP11Response } from './http1/response.js';
export { ResponseParser } from './http1/parser.js';
export type { ResponseHandler, ResponseParserOptions } from './http1/parser.js';
export { openTunnel } from './http1/tunnel.js';
export type { TunnelOptions } from './http1/tunnel.js';

// The facade and TLS.
export { HTTPConnection } from './connection.js';
export type { EndpointOptions } from './common/net.js';
export type { HTTPConnectionOptions, HTTPRequestOptions, ConnectionResponse, Protocol } from './connection.js';
export { initContext } from './tls.js';
export type { TLSContextOptions } from './tls.js';

// The pool layer (urllib3's API).
export { PoolManager, connectionFromUrl } from './pool/pool-manager.js';
export type { PoolManagerOptions } from './pool/pool-manager.js';
export { HTTPConnectionPool, HTTPSConnectionPool, poolChannels } from './pool/connection-pool.js';
export type { ConnectionPoolOptions, TimeoutInput } from './pool/connection-pool.js';
export { HTTPResponse, REDIRECT_STATUSES } from './pool/response.js';
export { BodyNotReplayableError } from './pool/urlopen.js';
export type { RetryInput, UrlopenOptions } from './pool/urlopen.js';
export type { PoolRequestOptions } from './pool/pool-request.js';
export { Retry, InvalidHeader } from './pool/retry.js';
export type { RequestHistory, RetryOptions } from './pool/retry.js';
export { Timeout } from './pool/timeout.js';
export type { TimeoutOptions } from './pool/timeout.js';
export type { PushCacheOptions } from './pool/push-cache.js';
export { parseUrl, getHost, Url } from './pool/url.js';
export { RequestField, encodeMultipartFormdata, chooseBoundary } from './pool/fields.js';
export type { Fields, FieldValue } from './pool/fields.js';
export { requestEncodeUrl, requestEncodeBody, encodeRequest } from './pool/request-encoding.js';
export type { EncodeRequestOptions, RequestBodyInit } from './pool/request-encoding.js';
export { makeHeaders } from './pool/make-headers.js';
export { ProxyManager, proxyFromUrl, SOCKSProxyManager } from './pool/proxy-manager.js';
export type { ProxyManagerOptions } from './pool/proxy-manager.js';
export { socksDialer } from './pool/socks-dialer.js';
export { proxyFromEnvironment, shouldBypassProxy, getProxyEnv, parseNoProxy } from './pool/proxy-env.js';
export type { ProxyEnv } from './pool/proxy-env.js';
export type { Dialer } from './common/net.js';
export type { MakeHeadersOptions } from './pool/make-headers.js';
export {
  ClosedPoolError,
  EmptyPoolError,
  HostChangedError,
  LocationParseError,
  LocationValueError,
  MaxRetryError,
  PoolError,
  ResponseError,
} from './pool/errors.js';

// The Client (httpx's API).
export { Client, TooManyRedirects } from './client/client.js';
export type { ClientOptions, ClientRequestOptions, FileInput, Limits, QueryParams, SendOptions } from './client/client.js';
export { Request } from './client/request.js';
export { Response, HTTPStatusError, ResponseNotRead, StreamConsumed } from './client/response.js';
export { Cookies } from './client/cookies.js';
export type { CookieScope } from './client/cookies.js';
export { ClientURL, Origin } from './client/origin.js';
export { BasicAuth, DigestAuth, DigestAuthError, FunctionAuth, netrcAuth } from './client/auth.js';
export type { Auth, AuthFunction, AuthInput, AuthRequest, AuthResponse, DigestAuthOptions } from './client/auth.js';

// fetch's Dispatcher: HTTP/2 under Node's fetch and undici.
export { HyperwireAgent } from './fetch/agent.js';
export type {
  HyperwireAgentOptions,
  HyperwireAgentConnectOptions,
  DispatchOptions,
  DispatchHeaders,
  DispatchBody,
  Dispatch,
  DispatchInterceptor,
  DispatcherCallback,
  DispatchController,
  DispatchHandler,
  DispatchHeaderRecord,
} from './fetch/agent.js';
export { DispatchArgumentError, DispatchNotSupportedError, DispatcherClosedError, DispatcherDestroyedError, HeadersTimeoutError, BodyTimeoutError } from './fetch/dispatcher-errors.js';

// WHATWG fetch over the pool.
export { fetch, createFetch } from './fetch/fetch.js';
export type { Fetch, FetchInput, FetchOptions } from './fetch/fetch.js';
export { RedirectError, RequestBlockedError, InvalidRequestError, IntegrityError } from './fetch/fetch-errors.js';
export type { FetchResponseType } from './fetch/fetch-response.js';

/**
 * initContext(): TLS options set up for HTTP/2 (RFC 9113 §9.2): TLS 1.2 or
 * later, ALPN offering h2 and http/1.1, SNI, certificate and host name
 * verification on by default against Node's root CAs.
 */

import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { TLSError } from './common/errors.js';

/** What {@link initContext} takes. Every field is optional. */
export interface TLSContextOptions {
  /** A CA bundle file (PEM) to trust instead of Node's root CAs. */
  caFile?: string;
  /** CA certificates (PEM) to trust instead of Node's root CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Trust Node's root CAs as well as `caFile`/`ca`. Default false: a custom bundle replaces them. */
  withRootCAs?: boolean;
  /** A client certificate (PEM), or its file with `certFile`. */
  cert?: string | Buffer;
  certFile?: string;
  /** The client certificate's private key (PEM), or its file with `keyFile`. */
  key?: string | Buffer;
  keyFile?: string;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * Verify the server's certificate and host name. Default true. Turning it
   * off emits one `InsecureRequestWarning`.
   */
  verify?: boolean;
  /** The lowest TLS version. Default and minimum 'TLSv1.2' (RFC 9113 §9.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TLSError('HW_ERR_TLS_CONFIG', `Cannot read the ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Builds TLS options for `HTTPConnection`, `HTTP20Connection` and
 * `HTTP11Connection` (their `tls` option).
 *
 * @throws TLSError (`HW_ERR_TLS_CONFIG`) for an unreadable file, a key that
 *   the passphrase does not open, or a certificate without its key.
 */
export function initContext(options: TLSContextOptions = {}): ConnectionOptions {
  const out: ConnectionOptions = {
    minVersion: options.minVersion ?? 'TLSv1.2',
    // For use with tls.connect directly; hyperwire's connections set their
    // own ALPN list (see HTTPConnection's forceProto).
    ALPNProtocols: ['h2', 'http/1.1'],
    rejectUnauthorized: options.verify !== false,
  };
  const cas: Array<string | Buffer> = [];
  if (options.caFile !== undefined) cas.push(read(options.caFile, 'CA file'));
  if (options.ca !== undefined) cas.push(...(Array.isArray(options.ca) ? options.ca : [options.ca]));
  if (cas.length > 0) {
    // Node's roots are replaced by `ca` unless listed with it.
    out.ca = options.withRootCAs === true ? [...rootCertificates, ...cas] : cas;
  }
  const cert = options.cert ?? (options.certFile !== undefined ? read(options.certFile, 'certificate file') : undefined);
  const key = options.key ?? (options.keyFile !== undefined ? read(options.keyFile, 'key file') : undefined);
  if ((cert === undefined) !== (key === undefined)) {
    throw new TLSError('HW_ERR_TLS_CONFIG', 'A client certificate needs its key, and a key its certificate');
  }
  if (cert !== undefined && key !== undefined) {
    // Open the key now, so that a wrong passphrase is a clear error here
    // rather than an OpenSSL message at connect time.
    try {
      createPrivateKey(options.passphrase === undefined ? { key } : { key, passphrase: options.passphrase });
    } catch (err) {
      const why = options.passphrase === undefined ? 'it is encrypted and no passphrase was given, or it is not a PEM key' : 'the passphrase does not open it';
      throw new TLSError('HW_ERR_TLS_CONFIG', `The client key cannot be read: ${why}`, { cause: err });
    }
    out.cert = cert;
    out.key = key;
    if (options.passphrase !== undefined) out.passphrase = options.passphrase;
  }
  if (options.verify === false) {
    process.emitWarning('TLS certificate verification is disabled: the connection can be intercepted. Use it only for testing.', {
      type: 'InsecureRequestWarning',
      code: 'HW_INSECURE_REQUEST',
    });
  }
  return out;
}

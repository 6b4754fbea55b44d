import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPConnection } from '../lib/connection.js';
import { TLSError } from '../lib/common/errors.js';
import { initContext } from '../lib/tls.js';

const certs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'certs');
const CERT_FILE = path.join(certs, 'cert.pem');
const KEY_FILE = path.join(certs, 'key.pem');
const CLIENT_CERT_FILE = path.join(certs, 'client-cert.pem');
const CLIENT_KEY_FILE = path.join(certs, 'client-key.pem');
/** The client key is encrypted with this passphrase. */
const PASSPHRASE = 'hyperwire';

const servers: https.Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** An https server on 127.0.0.1 answering with who the client said it was. */
async function serve(options: https.ServerOptions = {}): Promise<number> {
  const server = https.createServer({ key: readFileSync(KEY_FILE), cert: readFileSync(CERT_FILE), ...options }, (req, res) => {
    const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
    res.end(peer !== null && peer.subject !== undefined ? `client ${peer.subject.CN}` : 'anonymous');
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function get(port: number, tlsOptions: tls.ConnectionOptions, host = '127.0.0.1'): Promise<string> {
  const conn = new HTTPConnection(`${host}:${port}`, { tls: tlsOptions, timeout: 5000 });
  try {
    await conn.request('GET', '/');
    const response = await conn.getResponse();
    return (await response.read()).toString();
  } finally {
    await conn.close();
  }
}

describe('initContext', () => {
  it('sets TLS 1.2 or later, ALPN h2 then http/1.1, verification on, and Node roots by default', () => {
    const options = initContext();
    expect(options.minVersion).toBe('TLSv1.2');
    expect(options.ALPNProtocols).toEqual(['h2', 'http/1.1']);
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.ca).toBeUndefined();
  });

  it('rejects a self-signed server by default, with a TLSError', async () => {
    const port = await serve();
    const error = await get(port, initContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    expect((error as TLSError).code).toBe('HW_ERR_TLS');
  });

  it('trusts a custom CA bundle from a file, checking the host name', async () => {
    const port = await serve();
    expect(await get(port, initContext({ caFile: CERT_FILE }))).toBe('anonymous');
    expect(await get(port, initContext({ caFile: CERT_FILE }), 'localhost')).toBe('anonymous');
  });

  it('fails when the certificate does not name the host', async () => {
    const port = await serve();
    // The test certificate names localhost and 127.0.0.1, not example.org.
    const error = await get(port, { ...initContext({ caFile: CERT_FILE }), servername: 'example.org' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TLSError);
    expect((error as TLSError).message).toMatch(/example\.org/);
  });

  it('keeps Node roots beside a custom CA when asked', () => {
    const options = initContext({ ca: readFileSync(CERT_FILE), withRootCAs: true });
    expect(Array.isArray(options.ca)).toBe(true);
    expect((options.ca as unknown[]).length).toBeGreaterThan(100);
  });

  it('presents a client certificate whose key is encrypted with a passphrase', async () => {
    const port = await serve({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(CLIENT_CERT_FILE) });
    const options = initContext({ caFile: CERT_FILE, certFile: CLIENT_CERT_FILE, keyFile: CLIENT_KEY_FILE, passphrase: PASSPHRASE });
    expect(await get(port, options)).toBe('client hyperwire test client');
    // Without the certificate, the server refuses the handshake.
    const refused = await get(port, initContext({ caFile: CERT_FILE })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
  });

  it('a wrong or missing passphrase is a clear TLSError before connecting', () => {
    for (const passphrase of ['wrong', undefined]) {
      let error: unknown;
      try {
        initContext({ certFile: CLIENT_CERT_FILE, keyFile: CLIENT_KEY_FILE, ...(passphrase === undefined ? {} : { passphrase }) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TLSError);
      expect((error as TLSError).code).toBe('HW_ERR_TLS_CONFIG');
    }
  });

  it('an unreadable CA file, or a certificate without its key, is a TLSError', () => {
    expect(() => initContext({ caFile: path.join(certs, 'missing.pem') })).toThrow(TLSError);
    expect(() => initContext({ certFile: CLIENT_CERT_FILE })).toThrow(/needs its key/);
  });

  it('verification off connects to a self-signed server and emits one InsecureRequestWarning', async () => {
    const port = await serve();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === 'InsecureRequestWarning') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const options = initContext({ verify: false });
      expect(options.rejectUnauthorized).toBe(false);
      expect(await get(port, options)).toBe('anonymous');
      expect(await get(port, options)).toBe('anonymous');
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/verification is disabled/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

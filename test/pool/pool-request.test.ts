/**
 * The pool's request(): fields, JSON and the web body types encoded as
 * urllib3 does, seen by a real server; the pool's log lines under
 * NODE_DEBUG=hyperwire; its diagnostics_channel events.
 */

import { execFile } from 'node:child_process';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolManager, makeHeaders } from '../../lib/index.js';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const seen: Seen = { method: req.method!, url: req.url!, contentType: req.headers['content-type'], body };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function send(method: string, path: string, options: Parameters<PoolManager['request']>[2]): Promise<Seen> {
  await using pm = new PoolManager({ http2: false });
  return (await (await pm.request(method, base + path, options)).json()) as Seen;
}

describe('request(): what the server receives', () => {
  it('fields on a GET go into the query string, after any query already there', async () => {
    const seen = await send('GET', '/q?a=1', { fields: { b: '2', 'c d': 'e&f' } });
    expect(seen).toMatchObject({ method: 'GET', url: '/q?a=1&b=2&c+d=e%26f', body: '' });
  });

  it('fields on a POST are multipart/form-data, parsed back by a real parser', async () => {
    const seen = await send('POST', '/m', { fields: { name: 'value', file: ['a.txt', 'file contents', 'text/plain'] } });
    expect(seen.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(Buffer.from(seen.body, 'latin1'), { headers: { 'content-type': seen.contentType! } }).formData();
    expect(form.get('name')).toBe('value');
    const file = form.get('file') as File;
    expect(file.name).toBe('a.txt');
    expect(await file.text()).toBe('file contents');
  });

  it('encodeMultipart: false sends the fields urlencoded', async () => {
    const seen = await send('POST', '/u', { fields: { a: '1', b: 'x y' }, encodeMultipart: false });
    expect(seen).toMatchObject({ contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=x+y' });
  });

  it('json is serialised with content-type application/json', async () => {
    const seen = await send('POST', '/j', { json: { a: [1, 'é'] } });
    expect(seen.contentType).toBe('application/json');
    expect(Buffer.from(seen.body, 'latin1').toString('utf8')).toBe('{"a":[1,"é"]}');
  });

  it('URLSearchParams, Blob, FormData, a Readable and an async iterable as bodies', async () => {
    expect(await send('POST', '/s', { body: new URLSearchParams({ k: 'v w' }) })).toMatchObject({ contentType: 'application/x-www-form-urlencoded;charset=UTF-8', body: 'k=v+w' });
    expect(await send('POST', '/b', { body: new Blob(['blob!'], { type: 'text/x-blob' }) })).toMatchObject({ contentType: 'text/x-blob', body: 'blob!' });
    const fd = new FormData();
    fd.append('x', 'y');
    const seen = await send('POST', '/f', { body: fd });
    expect(seen.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect((await new Response(Buffer.from(seen.body, 'latin1'), { headers: { 'content-type': seen.contentType! } }).formData()).get('x')).toBe('y');
    expect(await send('POST', '/r', { body: Readable.from([Buffer.from('read'), Buffer.from('able')]) })).toMatchObject({ body: 'readable' });
    async function* gen(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('it');
      yield Buffer.from('er');
    }
    expect(await send('POST', '/g', { body: gen() })).toMatchObject({ body: 'iter' });
  });

  it('makeHeaders builds the usual fields', async () => {
    const headers = makeHeaders({ keepAlive: true, acceptEncoding: true, userAgent: 'hw-test', basicAuth: 'user:pass' });
    expect(headers).toEqual({ connection: 'keep-alive', 'accept-encoding': 'gzip,deflate,br', 'user-agent': 'hw-test', authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` });
    const seen = await send('GET', '/h', { headers });
    expect(seen.method).toBe('GET');
  });

  it('bad input is refused before anything is sent', async () => {
    await using pm = new PoolManager({ http2: false });
    await expect(pm.request('GET', base + '/', { headers: { 'bad name': 'x' } })).rejects.toBeInstanceOf(TypeError);
    await expect(pm.request('GET', base + '/', { headers: { ok: 'a\r\nb' } })).rejects.toBeInstanceOf(TypeError);
    await expect(pm.request('POST', base + '/', { json: {}, body: 'x' })).rejects.toBeInstanceOf(TypeError);
    await expect(pm.request('POST', base + '/', { body: 42 as unknown as string })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('diagnostics_channel', () => {
  it('publishes a connection created, reused and closed', async () => {
    const events: string[] = [];
    const on = (name: string) => () => events.push(name);
    const created = on('created');
    const reused = on('reused');
    const closed = on('closed');
    diagnosticsChannel.subscribe('hyperwire:pool:connection:created', created);
    diagnosticsChannel.subscribe('hyperwire:pool:connection:reused', reused);
    diagnosticsChannel.subscribe('hyperwire:pool:connection:closed', closed);
    try {
      const pm = new PoolManager({ http2: false });
      await pm.request('GET', base + '/1');
      await pm.request('GET', base + '/2');
      await pm.close();
      expect(events).toEqual(['created', 'reused', 'closed']);
    } finally {
      diagnosticsChannel.unsubscribe('hyperwire:pool:connection:created', created);
      diagnosticsChannel.unsubscribe('hyperwire:pool:connection:reused', reused);
      diagnosticsChannel.unsubscribe('hyperwire:pool:connection:closed', closed);
    }
  });
});

describe('NODE_DEBUG=hyperwire', () => {
  it('logs the new connection with its count, the request line with status and length (even when the body then fails), and the retry with its reason', async () => {
    let calls = 0;
    const h2 = http2.createServer();
    h2.on('stream', (stream, headers) => {
      if (headers[':path'] === '/short') {
        // Fewer octets than content-length says: the body fails.
        stream.respond({ ':status': 200, 'content-length': '100' });
        stream.end('part');
        return;
      }
      calls++;
      if (calls === 1) {
        stream.respond({ ':status': 503, 'retry-after': '0' });
        stream.end();
        return;
      }
      stream.respond({ ':status': 200, 'content-length': '6' });
      stream.end('logged');
    });
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    try {
      const script = new URL('../helpers/debug-pool-client.ts', import.meta.url).pathname;
      const port = String((h2.address() as AddressInfo).port);
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', script, port], { env: { ...process.env, NODE_DEBUG: 'hyperwire' }, timeout: 20_000 }, (err, out, errOut) =>
          err ? reject(err) : resolve({ stdout: out, stderr: errOut }),
        );
      });
      expect(stdout).toBe('logged');
      expect(stderr).toMatch(/Starting new HTTP connection \(1\): 127\.0\.0\.1:\d+/);
      expect(stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+ "GET \/logged HTTP\/2" 503 -/);
      expect(stderr).toMatch(/Retry: \/logged \(status 503\)/);
      expect(stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+ "GET \/logged HTTP\/2" 200 6/);
      // The second request went on the warm connection's fast way; its line
      // is written when the head comes, before its body failed.
      expect(stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+ "GET \/short HTTP\/2" 200 100/);
    } finally {
      await new Promise((r) => h2.close(r));
    }
  }, 30_000);
});

/**
 * `hyper --debug` against what went over the wire: a recording proxy in
 * front of an h2c server parses every frame each way and decodes the
 * header blocks with its own decoders; the log must list the same frames
 * (type, flags, stream, length) in the same order, with the same decoded
 * fields. And on HTTP/1.1, the heads as they went.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameName } from '../../lib/cli/debug.js';
import { FrameType } from '../../lib/frame/index.js';
import { hyper } from './run.js';
import { JSON_BODY, startCliServers, type CliServers, type SeenFrame } from './servers.js';

let s: CliServers;
beforeAll(async () => {
  s = await startCliServers();
});
afterAll(async () => {
  await s.close();
});

/** A frame entry of the log, with the decoded fields under it. */
interface LoggedFrame {
  direction: 'send' | 'recv';
  type: number;
  flags: number;
  streamId: number;
  length: number;
  fields: Array<[string, string]>;
  details: string[];
}

const NAMES = new Map(Array.from({ length: 10 }, (_, t) => [frameName(t), t]));
const HEADER = /^\[\s*\d+\.\d{3}\] (?:#\d+ )?(send|recv) ([A-Z_0-9]+) frame <length=(\d+), flags=0x([0-9a-f]{2}), stream_id=(\d+)>$/;
const FIELD = /^ {10}(\S+): (.*) \[(?:indexed|literal)[^\]]*\]$/;

function parseLog(stderr: string): LoggedFrame[] {
  const frames: LoggedFrame[] = [];
  for (const line of stderr.split('\n')) {
    const m = HEADER.exec(line);
    if (m !== null) {
      frames.push({ direction: m[1] as 'send' | 'recv', type: NAMES.get(m[2]!) ?? -1, flags: parseInt(m[4]!, 16), streamId: Number(m[5]), length: Number(m[3]), fields: [], details: [] });
      continue;
    }
    const last = frames[frames.length - 1];
    if (last === undefined || !line.startsWith('          ')) continue;
    const f = FIELD.exec(line);
    if (f !== null) last.fields.push([f[1]!, f[2]!]);
    else last.details.push(line.trim());
  }
  return frames;
}

const key = (f: { direction: string; type: number; flags: number; streamId: number; length: number }): string => `${f.direction} ${frameName(f.type)} flags=${f.flags} stream=${f.streamId} length=${f.length}`;

/** Waits until the proxy has seen the client's GOAWAY (the connection was closed) or a second passed. */
async function settled(seen: SeenFrame[], from: number): Promise<void> {
  for (let i = 0; i < 50 && !seen.slice(from).some((f) => f.direction === 'send' && f.type === FrameType.GOAWAY); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('--debug over HTTP/2', () => {
  it('lists every frame sent and received, as the server saw them, with the same decoded fields', async () => {
    const from = s.seen.length;
    const r = await hyper(['--debug', '--h2c', `127.0.0.1:${s.proxyPort}/`]);
    expect(r.code).toBe(0);
    await settled(s.seen, from);
    const wire = s.seen.slice(from);
    const logged = parseLog(r.stderr);
    for (const direction of ['send', 'recv'] as const) {
      const onWire = wire.filter((f) => f.direction === direction);
      const inLog = logged.filter((f) => f.direction === direction);
      expect(inLog.length).toBeGreaterThan(2);
      // The log ends when the command does; what crossed the wire after it
      // (the server's answer to our GOAWAY, and our own GOAWAY, which the
      // connection writes while shutting down without publishing it) is
      // all the wire may have beyond the log.
      expect(inLog.map(key)).toEqual(onWire.slice(0, inLog.length).map(key));
      for (const extra of onWire.slice(inLog.length)) expect([FrameType.GOAWAY, FrameType.SETTINGS, FrameType.WINDOW_UPDATE, FrameType.PING, FrameType.RST_STREAM]).toContain(extra.type);
      // Every header block decodes to what the proxy decoded.
      onWire.slice(0, inLog.length).forEach((f, i) => {
        if (f.fields !== undefined) expect(inLog[i]!.fields).toEqual(f.fields);
      });
    }
    // What a reader looks for: the request, the push promise, the response, SETTINGS by name, the table.
    const text = r.stderr;
    expect(text).toMatch(/^\[\s*0\.\d{3}\] HTTP\/2 connection to 127\.0\.0\.1:\d+ \(cleartext, prior knowledge\)$/m);
    expect(text).toMatch(/send HEADERS frame <length=\d+, flags=0x05, stream_id=1>\n {10}; END_STREAM \| END_HEADERS\n {10}:method: GET \[indexed static 2\]\n/);
    expect(text).toMatch(/recv PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=1>\n {10}; END_HEADERS\n {10}\(promised_stream_id=2\)\n/);
    expect(text).toContain(':path: /style.css');
    expect(text).toMatch(/\[SETTINGS_ENABLE_PUSH\(0x02\):1\]/);
    expect(text).toMatch(/; HPACK: \+\d+ added, -\d+ evicted; dynamic table \d+ entr(y|ies), \d+\/4096 octets/);
    // stdout is the body alone.
    expect(r.out).toContain('<p>hello</p>');
  });

  it('with --no-push, announces it and gets no promise', async () => {
    const r = await hyper(['--debug', '--no-push', '--h2c', `127.0.0.1:${s.proxyPort}/`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[SETTINGS_ENABLE_PUSH(0x02):0]');
    expect(r.stderr).not.toContain('PUSH_PROMISE');
  });

  it('goes to stderr only', async () => {
    const r = await hyper(['--debug', '--h2c', `127.0.0.1:${s.h2cPort}/json`]);
    expect(r.out).toBe(JSON_BODY);
    expect(r.stderr).toContain('recv DATA frame');
  });
});

describe('--debug over HTTP/1.1', () => {
  it('shows the heads as they went', async () => {
    const r = await hyper(['--debug', '--http1', `127.0.0.1:${s.h1Port}/json`]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(JSON_BODY);
    expect(r.stderr).toMatch(/HTTP\/1\.1 connection to 127\.0\.0\.1:\d+ \(cleartext\)\n/);
    expect(r.stderr).toMatch(/send HTTP\/1\.1 request head <length=\d+>\n {10}GET \/json HTTP\/1\.1\n {10}Host: 127\.0\.0\.1:\d+\n/);
    expect(r.stderr).toMatch(/recv HTTP\/1\.1 response head\n {10}HTTP\/1\.1 200 OK\n {10}content-type: application\/json\n/);
    expect(r.stderr).not.toContain('Upgrade: h2c');
  });
});

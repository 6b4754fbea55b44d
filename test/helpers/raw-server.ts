/**
 * A scripted HTTP/2 server over cleartext TCP, for protocol edge cases no
 * real server produces on demand. The script gets the client's frames as
 * they arrive and writes whatever raw bytes it likes.
 */

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { CONNECTION_PREFACE, encodeFrame, FrameReader, FrameType, type Frame } from '../../lib/index.js';
import { Encoder } from '../../lib/hpack/index.js';

export interface RawPeer {
  /** The next frame from the client (skipping its SETTINGS ACKs and WINDOW_UPDATEs unless asked). */
  next(filter?: (f: Frame) => boolean): Promise<Frame>;
  write(bytes: Uint8Array): void;
  /** A HEADERS block for a response, encoded with the server's HPACK state. */
  headers(fields: Array<[string, string]>): Buffer;
  /** Sends SETTINGS (empty by default). */
  settings(entries?: Array<readonly [number, number]>): void;
  close(): void;
  /** Resolves when the client closes the connection. */
  closed: Promise<void>;
  socket: net.Socket;
}

export interface RawServer {
  port: number;
  close(): Promise<void>;
}

/** Starts a server; `script` runs once per connection, after the client preface. */
export async function rawServer(script: (peer: RawPeer) => Promise<void>): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const reader = new FrameReader({ maxFrameSize: 1 << 20 });
    const queue: Frame[] = [];
    let wake: (() => void) | null = null;
    let prefaceLeft = CONNECTION_PREFACE.length;
    const encoder = new Encoder();
    let ended = false;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (prefaceLeft > 0) {
        const n = Math.min(prefaceLeft, data.length);
        prefaceLeft -= n;
        data = data.subarray(n);
      }
      if (data.length === 0) return;
      reader.push(Buffer.from(data));
      try {
        for (let f = reader.read(); f !== null; f = reader.read()) queue.push(f);
      } catch {
        socket.destroy();
      }
      wake?.();
    });
    socket.on('close', () => {
      ended = true;
      wake?.();
    });
    const peer: RawPeer = {
      socket,
      closed,
      async next(filter) {
        const accept = filter ?? ((f: Frame) => !(f.type === FrameType.SETTINGS && (f.flags & 1) === 1) && f.type !== FrameType.WINDOW_UPDATE);
        for (let spins = 0; spins < 10_000; spins++) {
          while (queue.length > 0) {
            const f = queue.shift()!;
            if (accept(f)) return f;
          }
          if (ended) throw new Error('client closed the connection');
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
        throw new Error('too many waits');
      },
      write(bytes) {
        if (!socket.destroyed) socket.write(bytes);
      },
      headers(fields) {
        return encoder.encode(fields);
      },
      settings(entries = []) {
        peer.write(encodeFrame({ type: FrameType.SETTINGS, flags: 0, streamId: 0, ack: false, settings: entries }));
      },
      close() {
        socket.destroy();
      },
    };
    script(peer).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

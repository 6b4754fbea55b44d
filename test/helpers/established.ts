/**
 * Counting TCP connections in the kernel's table, which relies on nothing a
 * client or server says of itself. Loopback puts both ends of a connection
 * in the table: the server's end has the port as its local port, the
 * client's as its remote one. Shared by the tests and the benchmarks.
 */

import { readFileSync } from 'node:fs';

/** Connections to `port` in ESTABLISHED state, counted at the server's end (or the client's). */
export function establishedTo(port: number, end: 'server' | 'client' = 'server'): number {
  const column = end === 'server' ? 1 : 2;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // Addresses are "IP:PORT" in hex; st 01 is ESTABLISHED.
      const address = cols[column];
      if (address === undefined || cols[3] !== '01') continue;
      if (parseInt(address.slice(address.lastIndexOf(':') + 1), 16) === port) n++;
    }
  }
  return n;
}

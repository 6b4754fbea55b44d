/**
 * Run as a child process by the debug-log test: one request, so that
 * NODE_DEBUG (read at process start) applies. Usage: debug-client.ts PORT
 */

import { readFileSync } from 'node:fs';
import { HTTP20Connection } from '../../lib/index.js';

const cert = readFileSync(new URL('./certs/cert.pem', import.meta.url));
const conn = new HTTP20Connection(`127.0.0.1:${process.argv[2]}`, { tls: { ca: cert }, timeout: 5000 });
const r = await conn.getResponse(await conn.request('GET', '/'));
process.stdout.write((await r.read()).toString());
await conn.close();

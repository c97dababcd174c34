/**
 * A server that dies sends its clients a FATAL message; node-postgres
 * emits it as an 'error' event on a connection that runs no query, and an
 * 'error' event with no listener ends the process. This test plays a
 * PostgreSQL server on 127.0.0.1 that answers the primary check and then,
 * for the pool's connection, sends ReadyForQuery and a FATAL
 * "terminating connection due to unexpected postmaster exit" in one write:
 * the connection is handed to semvec and is dead before semvec's code
 * runs. The call must fail with ERR_UNAVAILABLE and the process go on.
 * (Seen in CI when the failover test killed its primary.)
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { Pg } from '../../src/distributed/pg.js';
import { ErrorCode } from '../../src/index.js';

/** One backend message: a type byte, an int32 length, the body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

const authOk = () => message('R', int32(0));
const ready = () => message('Z', Buffer.from('I'));
const fatal = () => message('E', Buffer.concat([Buffer.from('S'), cstr('FATAL'), Buffer.from('C'), cstr('57P01'), Buffer.from('M'), cstr('terminating connection due to unexpected postmaster exit'), Buffer.from([0])]));
/** The answer to `SELECT pg_is_in_recovery() AS standby`: one bool column, false. */
const notInRecovery = () =>
  Buffer.concat([
    message('T', Buffer.concat([int16(1), cstr('standby'), int32(0), int16(0), int32(16), int16(1), int32(-1), int16(0)])),
    message('D', Buffer.concat([int16(1), int32(1), Buffer.from('f')])),
    message('C', cstr('SELECT 1')),
    ready(),
  ]);

/** A server whose first connection is a healthy primary and whose later connections die as they become ready. */
function dyingServer(): Promise<{ server: Server; url: string; connections: () => number }> {
  let n = 0;
  const server = createServer((socket: Socket) => {
    const index = n++;
    let started = false;
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (!started) {
        started = true; // the startup message
        if (index === 0) socket.write(Buffer.concat([authOk(), ready()]));
        else socket.end(Buffer.concat([authOk(), ready(), fatal()]));
        return;
      }
      if (data[0] === 'Q'.charCodeAt(0)) socket.write(notInRecovery());
      else if (data[0] === 'X'.charCodeAt(0)) socket.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `postgres://semvec@127.0.0.1:${port}/semvec`, connections: () => n });
    }),
  );
}

describe('a PostgreSQL server that dies as a connection becomes ready', () => {
  let server: Server | undefined;
  let db: Pg | undefined;
  afterEach(async () => {
    await db?.close();
    await new Promise((r) => server?.close(r) ?? r(undefined));
  });

  it('fails the call with ERR_UNAVAILABLE and leaves the process running', async () => {
    const fake = await dyingServer();
    server = fake.server;
    db = new Pg({ urls: [fake.url], max: 1 });
    const err = await db.with('reading the shard map', (c) => c.query('SELECT 1')).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe(ErrorCode.UNAVAILABLE);
    expect((err as Error).message).toMatch(/reading the shard map: .*(not queryable|terminat)/i);
    expect(fake.connections()).toBe(2);
    // The broken pool is forgotten: the next call looks for the primary again.
    expect(db.generation).toBeGreaterThan(0);
    // Let any late event of the dead connection arrive before the test ends.
    await new Promise((r) => setTimeout(r, 50));
  });
});

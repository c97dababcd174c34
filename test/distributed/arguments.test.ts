/**
 * semvec/distributed's public functions refuse bad input with a
 * SemvecError and a stable code, before touching PostgreSQL; PostgreSQL
 * unreachable at start is ERR_UNAVAILABLE with the address, after retries
 * with backoff. None of this needs PostgreSQL installed.
 */
import { describe, expect, it } from 'vitest';

import { ErrorCode } from '../../src/index.js';
import { initDeployment, moveShardAt } from '../../src/distributed/admin.js';
import { DistributedClient } from '../../src/distributed/client.js';
import { startNodeServer } from '../../src/distributed/node-server.js';
import { checkShardMap, roundRobinMap, shardOf } from '../../src/distributed/shard-map.js';
import { expectCode, expectRejects } from '../helpers/errors.js';
import { freePort } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

const URL = 'postgres://nobody@127.0.0.1:1/none';

describe('semvec/distributed arguments', () => {
  it('shardOf is stable and in range, and refuses bad arguments', () => {
    expect(shardOf(3, 'a', 64)).toBe(shardOf(3, 'a', 64));
    for (let i = 0; i < 100; i++) expect(shardOf(1, `id${i}`, 7)).toBeLessThan(7);
    expectCode(() => shardOf(-1, 'a', 4), ErrorCode.INVALID_ARGUMENT, /cid/);
    expectCode(() => shardOf(1, 5 as never, 4), ErrorCode.INVALID_ARGUMENT, /id must be a string/);
    expectCode(() => shardOf(1, 'a', 0), ErrorCode.INVALID_ARGUMENT, /shards/);
  });

  it('a malformed shard map is refused, saying what is wrong', () => {
    const good = roundRobinMap(4, ['a', 'b', 'c'], 2);
    expect(good.assignments.map((x) => x.replicas)).toEqual([['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'b']]);
    expect(checkShardMap(good, 4)).toEqual(good);
    const variant = (f: (m: typeof good) => void) => {
      const m = structuredClone(good);
      f(m);
      return m;
    };
    const cases: [unknown, RegExp][] = [
      [null, /expected \{ assignments/],
      [variant((m) => m.assignments.pop()), /one assignment for each of the 4 shards/],
      [variant((m) => ((m.assignments[1] as { shard: number }).shard = 0)), /shard 0 is assigned twice/],
      [variant((m) => ((m.assignments[0] as { replicas: string[] }).replicas = [])), /shard 0 has no replicas/],
      [variant((m) => ((m.assignments[0] as { replicas: string[] }).replicas = ['a', 'a'])), /lists a replica twice/],
      [variant((m) => ((m.assignments[0] as { replicas: string[] }).replicas = ['no spaces'])), /is not a node name/],
      [variant((m) => ((m.assignments[0] as { epoch: number }).epoch = 0)), /epoch must be a positive integer/],
      [variant((m) => ((m.assignments[0] as { joining: string | null }).joining = 'a')), /already a replica/],
    ];
    for (const [map, message] of cases) expectCode(() => checkShardMap(map, 4), ErrorCode.INVALID_ARGUMENT, message);
    expectCode(() => roundRobinMap(4, [], 1), ErrorCode.INVALID_ARGUMENT, /at least one node/);
    expectCode(() => roundRobinMap(4, ['a'], 2), ErrorCode.INVALID_ARGUMENT, /replicas must be an integer from 1 to the number of nodes/);
  });

  it('initDeployment, moveShardAt, startNodeServer and DistributedClient.connect refuse bad arguments', async () => {
    await expectRejects(initDeployment(URL, { nodes: [] }), ErrorCode.INVALID_ARGUMENT, /nodes must be a non-empty list/);
    await expectRejects(initDeployment(URL, { nodes: ['a', 'a'] }), ErrorCode.INVALID_ARGUMENT, /lists a node twice/);
    await expectRejects(initDeployment(URL, { nodes: ['a b'] }), ErrorCode.INVALID_ARGUMENT, /node names/);
    await expectRejects(initDeployment(URL, { nodes: ['a'], shards: 0 }), ErrorCode.INVALID_ARGUMENT, /shards/);
    await expectRejects(initDeployment(URL, null as never), ErrorCode.INVALID_ARGUMENT, /init expects/);
    await expectRejects(initDeployment('mysql://x', { nodes: ['a'] }), ErrorCode.INVALID_ARGUMENT, /postgres:\/\//);
    await expectRejects(moveShardAt('http://x', 0, 'a', 'b'), ErrorCode.INVALID_ARGUMENT, /postgres:\/\//);
    await expectRejects(startNodeServer({ urls: [URL], node: 'bad name', dataDir: tempDir() }), ErrorCode.INVALID_ARGUMENT, /node must be a node name/);
    await expectRejects(startNodeServer({ urls: [URL], node: 'n1', dataDir: '' }), ErrorCode.INVALID_ARGUMENT, /dataDir/);
    await expectRejects(startNodeServer({ urls: [URL], node: 'n1', dataDir: tempDir(), port: 70000 }), ErrorCode.INVALID_ARGUMENT, /port/);
    await expectRejects(DistributedClient.connect(null as never), ErrorCode.INVALID_ARGUMENT, /options must be an object/);
    await expectRejects(DistributedClient.connect({ urls: 'http://x' }), ErrorCode.INVALID_ARGUMENT, /postgres:\/\//);
    await expectRejects(DistributedClient.connect({ urls: [URL], connectTimeoutMs: -1 }), ErrorCode.INVALID_ARGUMENT, /connectTimeoutMs/);
  });

  it('PostgreSQL unreachable at start: retries with backoff, then ERR_UNAVAILABLE naming the address (the password hidden)', async () => {
    const url = `postgres://semvec:secret@127.0.0.1:${await freePort()}/semvec`;
    const retries: string[] = [];
    const err = await expectRejects(DistributedClient.connect({ urls: [url], connectTimeoutMs: 600, log: (m) => retries.push(m) }), ErrorCode.UNAVAILABLE, /PostgreSQL is unreachable at postgres:\/\/semvec:\*\*\*@127\.0\.0\.1:\d+\/semvec after \d+ s/);
    expect(err.message).not.toContain('secret');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatch(/retrying in \d+ ms/);
    await expectRejects(startNodeServer({ urls: [url], node: 'n1', dataDir: tempDir(), connectTimeoutMs: 300 }), ErrorCode.UNAVAILABLE, /PostgreSQL is unreachable/);
  });
});

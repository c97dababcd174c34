/**
 * semvec/distributed: semvec's collections scaled out on PostgreSQL.
 * PostgreSQL is the system of record and the change log; semvec nodes
 * hold shards of the collections as native indexes (`semvec node`); a
 * router fans queries out and merges them (`semvec router`, or
 * {@link DistributedClient} in process). See docs/cluster.md.
 * @packageDocumentation
 */
export { DistributedClient } from './client.js';
export type { DistributedClientOptions, DistributedCollectionOptions, DistributedCollectionSummary } from './client.js';
export { DistributedCollection } from './collection.js';
export type { DistributedCollectionInfo, DistributedQueryOptions, WriteResult } from './collection.js';
export { checkShardMap, roundRobinMap, shardOf } from './shard-map.js';
export type { ShardAssignment, ShardMap } from './shard-map.js';
export { describeDeployment, initDeployment, moveShardAt } from './admin.js';
export type { DeploymentView, InitOptions } from './admin.js';

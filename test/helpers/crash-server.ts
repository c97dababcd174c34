/**
 * The crash test's rounds (crash-check.ts) driven through `semvec serve`:
 * writers in this process add and delete records over HTTP, printing the
 * same lines as crash-writer.ts (`add? n` before a request, `ack n` once it
 * is answered, `del? n` / `del n` for deletes), while the server is stopped
 * by a signal after a number of acknowledged records: SIGKILL (nothing may
 * be lost) or SIGTERM (the same, and the server exits 0).
 */
import { vectorOf } from './crash-writer.js';
import { startServe } from './serve.js';

const DB = '/api/v2/tenants/default_tenant/databases/default_database';

export interface ServerRound {
  lines: string[];
  exit: { code: number | null; signal: NodeJS.Signals | null };
  /** Answers that were neither a success nor a refusal of a stopping server (a 500, a 4xx). */
  bad: string[];
  output: string;
}

/** Starts the server on dir, writes from record `start` with `writers` concurrent loops, and stops it with `signal` after `acks` acknowledged records. */
export async function runServerRound(dir: string, start: number, signal: 'SIGKILL' | 'SIGTERM', acks: number, writers = 3): Promise<ServerRound> {
  const server = await startServe(dir);
  const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const created = await post(`${DB}/collections`, { name: 'crash', get_or_create: true, configuration: { hnsw: { space: 'l2' } } });
  const { id } = (await created.json()) as { id: string };
  const lines: string[] = [];
  const bad: string[] = [];
  let next = start;
  let acked = 0;
  let signalled = false;
  let stopped = false;

  const writer = async () => {
    while (!stopped) {
      const n = next;
      const batch = 1 + (n % 3);
      next += batch;
      const ids = Array.from({ length: batch }, (_, j) => n + j);
      for (const i of ids) lines.push(`add? ${i}`);
      let res: Response;
      try {
        res = await post(`${DB}/collections/${id}/add`, { ids: ids.map((i) => `k${i}`), embeddings: ids.map(vectorOf), documents: ids.map((i) => `doc ${i}`), metadatas: ids.map((i) => ({ i })) });
      } catch {
        return; // the server is gone
      }
      if (res.status === 201) {
        for (const i of ids) lines.push(`ack ${i}`);
        acked += batch;
      } else if (!(signalled && res.status === 503)) {
        bad.push(`add ${ids.join(',')}: ${res.status} ${await res.text()}`);
        return;
      }
      if (acked >= acks && !signalled) {
        signalled = true;
        server.child.kill(signal);
      }
      if ((n + batch) % 5 === 0 && !signalled) {
        const victim = n + batch - 4;
        lines.push(`del? ${victim}`);
        try {
          const del = await post(`${DB}/collections/${id}/delete`, { ids: [`k${victim}`] });
          if (del.status === 200 && ((await del.json()) as { deleted: number }).deleted === 1) lines.push(`del ${victim}`);
        } catch {
          return;
        }
      }
    }
  };
  const loops = Array.from({ length: writers }, writer);
  // Writers that all stopped on a bad answer: end the server so the round reports them.
  void Promise.all(loops).then(() => {
    if (!signalled) server.child.kill('SIGKILL');
  });
  const exit = await server.exited;
  stopped = true;
  await Promise.all(loops);
  return { lines, exit, bad, output: server.output() };
}

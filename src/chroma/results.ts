/**
 * Results in Chroma's columnar shape: one array per field (per query for
 * `query`), with `rows()` for record-by-record iteration. Fields not in
 * `include` are empty arrays, as the `chromadb` client makes them.
 */
import type { MatchScores } from '../collection/types.js';
import type { Include, Metadata } from './types.js';

export interface GetResultData<TMeta extends Metadata = Metadata> {
  documents: (string | null)[];
  embeddings: number[][];
  ids: string[];
  include: Include[];
  metadatas: (TMeta | null)[];
  uris: (string | null)[];
}

export class GetResult<TMeta extends Metadata = Metadata> {
  readonly documents: (string | null)[];
  readonly embeddings: number[][];
  readonly ids: string[];
  readonly include: Include[];
  readonly metadatas: (TMeta | null)[];
  readonly uris: (string | null)[];

  constructor({ documents, embeddings, ids, include, metadatas, uris }: GetResultData<TMeta>) {
    this.documents = documents;
    this.embeddings = embeddings;
    this.ids = ids;
    this.include = include;
    this.metadatas = metadatas;
    this.uris = uris;
  }

  /**
   * The records one by one; fields not included are undefined.
   *
   * @example
   * for (const { id, document } of (await col.get()).rows()) console.log(id, document);
   */
  rows(): { id: string; document: string | null | undefined; embedding: number[] | undefined; metadata: TMeta | null | undefined; uri: string | null | undefined }[] {
    const has = (f: Include) => this.include.includes(f);
    return this.ids.map((id, i) => ({
      id,
      document: has('documents') ? this.documents[i] : undefined,
      embedding: has('embeddings') ? this.embeddings[i] : undefined,
      metadata: has('metadatas') ? this.metadatas[i] : undefined,
      uri: has('uris') ? this.uris[i] : undefined,
    }));
  }
}

export interface QueryRowResult<TMeta extends Metadata = Metadata> {
  distance?: number | null;
  document?: string | null;
  embedding?: number[] | null;
  id: string;
  metadata?: TMeta | null;
  uri?: string | null;
}

export interface QueryResultData<TMeta extends Metadata = Metadata> {
  distances: (number | null)[][];
  documents: (string | null)[][];
  embeddings: (number[] | null)[][];
  ids: string[][];
  include: Include[];
  metadatas: (TMeta | null)[][];
  uris: (string | null)[][];
  /** semvec's addition: each match's score per stage, when the query gave a mode or a rerank. */
  scores?: (MatchScores | null)[][];
}

export class QueryResult<TMeta extends Metadata = Metadata> {
  readonly distances: (number | null)[][];
  readonly documents: (string | null)[][];
  readonly embeddings: (number[] | null)[][];
  readonly ids: string[][];
  readonly include: Include[];
  readonly metadatas: (TMeta | null)[][];
  readonly uris: (string | null)[][];
  /**
   * semvec's addition, present when the query gave a `mode` or a `rerank`:
   * each match's score and rank per stage (vector, keyword, fused, rerank).
   */
  readonly scores?: (MatchScores | null)[][];

  constructor({ distances, documents, embeddings, ids, include, metadatas, uris, scores }: QueryResultData<TMeta>) {
    this.distances = distances;
    this.documents = documents;
    this.embeddings = embeddings;
    this.ids = ids;
    this.include = include;
    this.metadatas = metadatas;
    this.uris = uris;
    if (scores !== undefined) this.scores = scores;
  }

  /**
   * Per query, its matches one by one (nearest first); fields not included are undefined.
   *
   * @example
   * const [matches] = (await col.query({ queryEmbeddings: [q], nResults: 3 })).rows();
   */
  rows(): QueryRowResult<TMeta>[][] {
    const has = (f: Include) => this.include.includes(f);
    return this.ids.map((ids, q) =>
      ids.map((id, i) => ({
        id,
        document: has('documents') ? this.documents[q]![i] : undefined,
        embedding: has('embeddings') ? this.embeddings[q]![i] : undefined,
        metadata: has('metadatas') ? this.metadatas[q]![i] : undefined,
        uri: has('uris') ? this.uris[q]![i] : undefined,
        distance: has('distances') ? this.distances[q]![i] : undefined,
      })),
    );
  }
}

/**
 * The server's view of the collections: Chroma-side handles by collection
 * UUID (so a request does not wait in the write queue to find its
 * collection), the JSON of a collection as Chroma's server gives it, and
 * the semvec embedder of each collection for requests that carry text.
 */
import type { CollectionApi as CoreCollection, CollectionBackend } from '../chroma/backend.js';
import { ChromaClient } from '../chroma/client.js';
import type { Collection } from '../chroma/collection.js';
import { SemvecEmbeddingFunction } from '../chroma/embedding-function.js';
import { ChromaNotFoundError } from '../chroma/errors.js';
import { DEFAULT_DATABASE, DEFAULT_TENANT, type EmbeddingFunctionConfiguration } from '../chroma/types.js';
import { MODEL_KEY } from '../cli/models.js';

/** A collection as Chroma's HTTP API returns it. */
export interface CollectionJson {
  id: string;
  name: string;
  configuration_json: { hnsw: { space: string } | null; spann: null; embedding_function: EmbeddingFunctionConfiguration };
  metadata: Record<string, unknown> | null;
  dimension: number | null;
  tenant: string;
  database: string;
  log_position: number;
  version: number;
}

/** The semvec model a collection's texts are embedded with: the one `semvec index` recorded in its metadata. */
export function modelOf(core: CoreCollection): string | undefined {
  const model = core.metadata?.[MODEL_KEY];
  return typeof model === 'string' ? model : undefined;
}

export class ServedCollections {
  readonly chroma: ChromaClient;
  readonly #byId = new Map<string, Collection>();
  /** One embedding function per model, shared by the collections indexed with it. */
  readonly #functions = new Map<string, SemvecEmbeddingFunction>();

  constructor(client: CollectionBackend) {
    this.chroma = new ChromaClient({
      client,
      defaultEmbeddingFunction: (core) => {
        const model = modelOf(core);
        if (model === undefined) return null;
        let ef = this.#functions.get(model);
        if (!ef) {
          ef = new SemvecEmbeddingFunction({ model });
          this.#functions.set(model, ef);
        }
        return ef;
      },
    });
  }

  /** The collection with this UUID; a ChromaNotFoundError if there is none. */
  async byId(id: string): Promise<Collection> {
    const known = this.#byId.get(id);
    if (known) {
      // A deleted collection's handle refuses work; forget it and look again.
      try {
        await known.collection.count(); // cached; throws for a deleted collection
        return known;
      } catch {
        this.#byId.delete(id);
      }
    }
    const col = await this.chroma.getCollectionById(id);
    this.#byId.set(id, col);
    return col;
  }

  async byName(name: string): Promise<Collection> {
    const col = await this.chroma.getCollection({ name });
    this.#byId.set(col.id, col);
    return col;
  }

  forget(id: string): void {
    this.#byId.delete(id);
  }

  /** Chroma's JSON for a collection. */
  json(col: Collection): CollectionJson {
    const core = col.collection;
    const model = modelOf(core);
    return {
      id: col.id,
      name: col.name,
      configuration_json: {
        hnsw: { space: core.metric },
        spann: null,
        embedding_function: model === undefined ? { type: 'legacy' } : { type: 'known', name: 'semvec', config: { model } },
      },
      metadata: core.metadata,
      dimension: core.dim ?? null,
      tenant: DEFAULT_TENANT,
      database: DEFAULT_DATABASE,
      log_position: 0,
      version: 0,
    };
  }

  /** Releases the models loaded for text. */
  async close(): Promise<void> {
    for (const ef of this.#functions.values()) await ef.close();
    this.#functions.clear();
  }
}

export { ChromaNotFoundError };

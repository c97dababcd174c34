/**
 * LISTEN on PostgreSQL's notification channels with a connection of its
 * own, reconnecting with backoff when it is lost. Notifications are hints:
 * whoever listens also polls, and is told (`onReconnect`) when the
 * connection came back, since notifications sent meanwhile are lost.
 */
import type pg from 'pg';

import type { Pg } from './pg.js';

export interface ListenerOptions {
  channels: readonly string[];
  onNotification: (channel: string, payload: string) => void;
  /** After the first connection and after each reconnection. */
  onReconnect: () => void;
  /** The connection was lost (the server may have been replaced). */
  onLost: (err: unknown) => void;
}

export class Listener {
  readonly #db: Pg;
  readonly #options: ListenerOptions;
  #client: pg.Client | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #delay = 250;

  constructor(db: Pg, options: ListenerOptions) {
    this.#db = db;
    this.#options = options;
  }

  start(): void {
    void this.#connect();
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    let client: pg.Client | undefined;
    try {
      await this.#db.pool(); // finds the primary
      client = await this.#db.client(this.#db.primary as string);
      for (const channel of this.#options.channels) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      await client?.end().catch(() => undefined);
      this.#retry(err);
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#delay = 250;
    client.on('notification', (n) => this.#options.onNotification(n.channel, n.payload ?? ''));
    const lost = (err: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      void client.end().catch(() => undefined);
      this.#options.onLost(err);
      this.#retry(err);
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('the listening connection ended')));
    this.#options.onReconnect();
  }

  #retry(_err: unknown): void {
    if (this.#stopped) return;
    const wait = this.#delay;
    this.#delay = Math.min(this.#delay * 2, 5_000);
    this.#timer = setTimeout(() => void this.#connect(), wait);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }
}

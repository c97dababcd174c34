/**
 * COPY ... FROM STDIN in PostgreSQL's binary format, for bulk loads:
 * `CopyRows` encodes rows (int4, int8, text, bytea, jsonb columns) and
 * `copyIn` sends them on a node-postgres connection as a query object
 * (node-postgres runs any object with a `submit` method as a query; this is
 * how COPY support plugs into it without another package).
 *
 * Binary format: "PGCOPY\n\377\r\n\0", flags (int32 0), header extension
 * length (int32 0); per row an int16 field count, then per field an int32
 * byte length (-1: NULL) and the bytes; an int16 -1 ends the data.
 */
import type pg from 'pg';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export type CopyType = 'int4' | 'int8' | 'text' | 'bytea' | 'json' | 'jsonb';
export type CopyValue = number | string | Uint8Array | null;

export class CopyRows {
  readonly #types: readonly CopyType[];
  readonly #parts: Buffer[] = [];
  #bytes = 0;
  rows = 0;

  constructor(types: readonly CopyType[]) {
    this.#types = types;
    const header = Buffer.alloc(SIGNATURE.length + 8);
    SIGNATURE.copy(header);
    this.#push(header);
  }

  #push(b: Buffer): void {
    this.#parts.push(b);
    this.#bytes += b.length;
  }

  /** Adds one row; values in column order (null for NULL). */
  add(values: readonly CopyValue[]): void {
    const head = Buffer.alloc(2);
    head.writeInt16BE(values.length);
    this.#push(head);
    values.forEach((v, i) => this.#field(this.#types[i] as CopyType, v));
    this.rows++;
  }

  #field(type: CopyType, v: CopyValue): void {
    const len = Buffer.alloc(4);
    if (v === null) {
      len.writeInt32BE(-1);
      this.#push(len);
      return;
    }
    let body: Buffer;
    switch (type) {
      case 'int4':
        body = Buffer.alloc(4);
        body.writeInt32BE(v as number);
        break;
      case 'int8':
        body = Buffer.alloc(8);
        body.writeBigInt64BE(BigInt(v as number));
        break;
      case 'text':
      case 'json':
        body = Buffer.from(v as string, 'utf8');
        break;
      case 'jsonb':
        body = Buffer.concat([Buffer.from([1]), Buffer.from(v as string, 'utf8')]);
        break;
      case 'bytea':
        body = Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
        break;
    }
    len.writeInt32BE(body.length);
    this.#push(len);
    this.#push(body);
  }

  /** The encoded data, trailer included. */
  finish(): Buffer {
    const trailer = Buffer.alloc(2);
    trailer.writeInt16BE(-1);
    return Buffer.concat([...this.#parts, trailer], this.#bytes + 2);
  }
}

/** Chunks sent per CopyData message. */
const CHUNK = 256 * 1024;

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** A COPY FROM STDIN as a node-postgres query object. */
class CopyIn {
  callback: ((err: Error | null, rows?: number) => void) | undefined;
  #rows = 0;
  #done = false;

  constructor(
    readonly text: string,
    readonly data: Buffer,
  ) {}

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    for (let at = 0; at < this.data.length; at += CHUNK) connection.sendCopyFromChunk(this.data.subarray(at, at + CHUNK));
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.#rows = Number(m[1]);
  }

  handleReadyForQuery(): void {
    this.#finish(null);
  }

  handleError(err: Error): void {
    this.#finish(err);
  }

  #finish(err: Error | null): void {
    if (this.#done) return;
    this.#done = true;
    this.callback?.(err, this.#rows);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Runs `COPY <table> (<columns>) FROM STDIN (FORMAT binary)` with the rows; resolves with the rows copied. */
export function copyIn(client: pg.ClientBase, table: string, columns: readonly string[], rows: CopyRows): Promise<number> {
  const query = new CopyIn(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`, rows.finish());
  return new Promise((resolve, reject) => {
    query.callback = (err, n) => (err ? reject(err) : resolve(n ?? 0));
    client.query(query as unknown as pg.QueryConfig);
  });
}

/**
 * A stand-in for the Hugging Face hub on 127.0.0.1: serves files under
 * `/<org>/<name>/resolve/<revision>/<path>` with Range support, records every
 * request, and lets a test take over any request to inject faults.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRequest {
  method: string;
  url: string;
  /** The repository path asked for, e.g. 'onnx/model.onnx'. */
  file: string;
  range: string | undefined;
}

/**
 * Handles a request before the default logic; return true when it answered.
 * `body` is the file's contents, undefined when the server does not have it.
 */
export type Intercept = (req: IncomingMessage, res: ServerResponse, file: string, body: Buffer | undefined) => boolean;

export interface HubServer {
  /** Base URL, e.g. http://127.0.0.1:40123 (pass as hubUrl). */
  url: string;
  requests: HubRequest[];
  /** Replaced at will by tests; undefined serves files normally. */
  intercept: Intercept | undefined;
  close(): Promise<void>;
}

/**
 * Starts a server for one repository. `files` maps repository paths to
 * contents; every other path is a 404.
 */
export async function startHubServer(repo: string, files: Record<string, Buffer>, revision = 'main'): Promise<HubServer> {
  const prefix = `/${repo}/resolve/${revision}/`;
  const hub: HubServer = {
    url: '',
    requests: [],
    intercept: undefined,
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const file = url.startsWith(prefix) ? decodeURIComponent(url.slice(prefix.length)) : '';
    hub.requests.push({ method: req.method ?? 'GET', url, file, range: req.headers.range });
    const body = file ? files[file] : undefined;
    if (hub.intercept?.(req, res, file, body)) return;
    serve(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return hub;
}

/** Answers with the file, honouring `Range: bytes=<start>-`. */
export function serve(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): void {
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, {
      'content-length': body.length - start,
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      'accept-ranges': 'bytes',
    });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
  res.end(body);
}

/**
 * The page served at `/`: static HTML, JavaScript and CSS shipped in the
 * package (src/server/static/, no build step), read once at start.
 */
import { readFileSync } from 'node:fs';

import type { FastifyInstance } from 'fastify';

const STATIC = new URL('../../src/server/static/', import.meta.url);

const FILES: Record<string, string> = {
  '/': 'index.html',
  '/page/app.js': 'app.js',
  '/page/pca.js': 'pca.js',
  '/page/style.css': 'style.css',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The routes of the page; every one is a GET of a fixed file. */
export const PAGE_ROUTES = [...Object.keys(FILES), '/favicon.ico'];

export function registerPage(app: FastifyInstance): void {
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  for (const [route, file] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, STATIC));
    const type = TYPES[file.slice(file.lastIndexOf('.') + 1)] as string;
    app.get(route, async (_req, reply) =>
      reply
        .header('content-type', type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
        .send(body),
    );
  }
}

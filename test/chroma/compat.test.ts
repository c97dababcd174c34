/**
 * A Chroma program ports by changing its import. test/chroma/program/
 * workflow.ts is written against the `chromadb` client's types; this test
 * makes its twin by changing only the import line to 'semvec/chroma',
 * type-checks the twin against semvec's types, and runs both: the original
 * through the unmodified chromadb client against `semvec serve`, the twin
 * in process. They must print the same lines.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ChromaClient as ChromadbClient } from 'chromadb';
import { afterAll, describe, expect, it } from 'vitest';

import { ChromaClient } from '../../src/chroma/index.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp.js';
import { workflow } from './program/workflow.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const source = readFileSync(new URL('./program/workflow.ts', import.meta.url), 'utf8');
const IMPORT = "from 'chromadb';";

/** The same program with only its import changed. */
function twin(specifier: string): string {
  expect(source.split(IMPORT)).toHaveLength(2); // one import line, and only it changes
  return source.replace(IMPORT, `from '${specifier}';`);
}

function tsc(project: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project], { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('a chromadb program ported by changing its import', () => {
  // Inside the repository, so that the generated tsconfig finds node_modules.
  const dir = join(root, 'test', 'chroma', 'program', '.generated');
  mkdirSync(dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("type-checks against semvec/chroma's types", async () => {
    writeFileSync(join(dir, 'workflow.ts'), twin('semvec/chroma'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { noEmit: true, rootDir: root, paths: { 'semvec/chroma': [join(root, 'src', 'chroma', 'index.ts')] }, allowImportingTsExtensions: true },
        include: [join(dir, 'workflow.ts')],
      }),
    );
    const { code, output } = await tsc(join(dir, 'tsconfig.json'));
    expect(output).toBe('');
    expect(code).toBe(0);
    // The reference: the same file must fail to type-check if semvec's types lacked what it uses.
    writeFileSync(join(dir, 'broken.ts'), `${twin('semvec/chroma')}\nexport const x = (c: import('semvec/chroma').Collection) => c.noSuchMethod();\n`);
    writeFileSync(join(dir, 'tsconfig.broken.json'), readFileSync(join(dir, 'tsconfig.json'), 'utf8').replace('workflow.ts', 'broken.ts'));
    expect((await tsc(join(dir, 'tsconfig.broken.json'))).code).not.toBe(0);
  });

  it('prints the same lines in process (semvec/chroma) as through the chromadb client against semvec serve', async () => {
    // In process: the twin, importing semvec/chroma's source.
    const runDir = join(dir, 'run');
    mkdirSync(runDir, { recursive: true });
    const twinFile = join(runDir, 'workflow.ts');
    writeFileSync(twinFile, twin(pathToFileURL(join(root, 'src', 'chroma', 'index.ts')).href));
    const ported = (await import(pathToFileURL(twinFile).href)) as { workflow: (client: ChromaClient, out: (line: string) => void) => Promise<void> };
    const inProcess: string[] = [];
    await ported.workflow(new ChromaClient(), (l) => inProcess.push(l));

    // Over HTTP: the original, through chromadb's own client.
    const server = await startServe(tempDir('semvec-compat-db-'));
    const overHttp: string[] = [];
    await workflow(new ChromadbClient({ host: '127.0.0.1', port: server.port }), (l) => overHttp.push(l));
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    expect(inProcess).toEqual(overHttp);
    expect(inProcess).toHaveLength(16);
    expect(inProcess).toContain('query ids: [["p1","v1","p4"]]');
    expect(inProcess).toContain('deleted collection missing: true');
  });
});

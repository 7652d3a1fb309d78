// The measured Node servers (the proxy, the bare pipe) run as one bundled .mjs each, the way a
// built package runs in production, not through tsx: the TypeScript loader costs about 30 MB of
// resident memory and start-up work that no deployment pays, and would blur the memory figures.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root } from './processes';

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>;
}

/** esbuild as tsx (a root devDependency) depends on it, so no other dependency is needed. */
function loadEsbuild(): EsbuildApi {
  const fromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx/package.json'));
  return fromTsx('esbuild') as EsbuildApi;
}

/**
 * Bundles a TypeScript entry of the workspace (workspace packages from source, npm packages
 * included) into one ES module at `outfile`.
 */
export async function bundleServer(entry: string, outfile: string): Promise<string> {
  await loadEsbuild().build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@strm/source'],
    // CommonJS dependencies (express, pino) call require() for Node's own modules.
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

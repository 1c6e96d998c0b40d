// ESM loader hooks so a plain `node` child process (a fuzz sandbox) can run the TypeScript sources
// directly: `.ts` files are stripped of types with oxc (rolldown/utils, the transformer Vite uses),
// and a relative `./x.js` import resolves to `./x.ts` when only the .ts exists (NodeNext style).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'rolldown/utils';

export async function resolve(specifier, context, nextResolve) {
  if ((specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:')) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const url = new URL(specifier, context.parentURL);
    if (!fs.existsSync(fileURLToPath(url))) {
      const ts = new URL(url.href.replace(/\.js$/, '.ts'));
      if (fs.existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true, format: 'module' };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const file = fileURLToPath(url);
    const result = transformSync(file, fs.readFileSync(file, 'utf8'), { sourcemap: true, lang: 'ts' });
    if (result.errors?.length) throw new Error(`${file}: ${result.errors.map((e) => e.message).join('; ')}`);
    const map = result.map ? `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(result.map)).toString('base64')}\n` : '';
    return { format: 'module', source: result.code + map, shortCircuit: true };
  }
  return nextLoad(url, context);
}

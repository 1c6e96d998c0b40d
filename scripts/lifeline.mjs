#!/usr/bin/env node
// The `lifeline` command (package.json "bin"). Runs the compiled CLI from dist/; `npm run setup`
// (run automatically by `npm start` and `npm test`) builds it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'electron', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(`lifeline: not built yet (${cli} is missing). Run: npm run setup\n`);
  process.exit(2);
}
// A parser library may leave a promise rejected after its caller already got (and reported) the
// error — pdf.js does on some damaged PDFs. That must not end an ingest of a whole batch: say it
// on stderr and go on.
process.on('unhandledRejection', (err) => {
  process.stderr.write(`lifeline: a background error was ignored: ${err instanceof Error ? err.message : String(err)}\n`);
});
const { runCli } = await import(pathToFileURL(cli).href);
process.exitCode = await runCli(process.argv.slice(2));

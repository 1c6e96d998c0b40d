#!/usr/bin/env node
// `npm start`: the desktop console in Electron when its binary is installed; otherwise (as on
// a machine where Electron's binary cannot be downloaded) the same console served on
// 127.0.0.1 by `lifeline serve`, with the address and its per-launch token printed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const passThrough = process.argv.slice(2);

// Looks for Electron's binary without require('electron'): that module tries to download the
// binary when it is missing, and this machine must not reach out.
function electronBinary() {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    const bin = path.join(dir, 'dist', rel);
    return fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: 'inherit', cwd: root });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const electron = electronBinary();
if (electron && process.env.LIFELINE_NO_ELECTRON !== '1') {
  console.log('Starting the Lifeline desktop console (Electron).');
  run(electron, [path.join(root, 'dist', 'electron', 'main.js'), ...passThrough]);
} else {
  const preferred = Number(process.env.LIFELINE_PORT ?? 7788);
  const port = (await portFree(preferred)) ? preferred : 0;
  console.log('Electron is not installed on this machine: serving the console on 127.0.0.1 instead.');
  if (port === 0) console.log(`(port ${preferred} is in use; using a free port)`);
  run(process.execPath, [path.join(root, 'scripts', 'lifeline.mjs'), 'serve', '--port', String(port), ...passThrough]);
}

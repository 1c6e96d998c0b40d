// Runs the real `lifeline` command (the compiled CLI, as `npx lifeline` does) in a child process.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT } from './env.js';

export const LIFELINE_BIN = path.join(REPO_ROOT, 'scripts', 'lifeline.mjs');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

export function lifeline(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [LIFELINE_BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000 });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json() {
      return JSON.parse(r.stdout);
    },
  };
}

export interface ServeInfo {
  url: string;
  consoleUrl: string;
  port: number;
  token: string;
  stop(): Promise<void>;
}

/** Starts `lifeline serve --json` and resolves with the address it prints. */
export function serve(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServeInfo> {
  const child = spawn(process.execPath, [LIFELINE_BIN, 'serve', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      const info = JSON.parse(line);
      resolve({
        ...info,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`lifeline serve exited with ${code}: ${stderr}`)));
  });
}

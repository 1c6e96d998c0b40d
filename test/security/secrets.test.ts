// No secret in any log or output. A repository passphrase (from --passphrase-file, or in an
// API request body) and the per-launch token of `lifeline serve` must never be written by
// Lifeline anywhere but where the operator needs it: the token on serve's stdout (the address
// to open), the passphrase nowhere at all. Everything Lifeline wrote is searched: stdout and
// stderr of every command, every file of the data roots and the repository — raw bytes, and the
// catalog's rows dumped table by table (jobs, audit log, meta, verify runs, wizard runs).
// Also: describeBlockedRequest (what the Electron shell logs about a blocked request) never
// carries a query string, a path, a fragment or credentials.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBlockedRequest } from '../../electron/security.js';
import { type CliResult, lifeline } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';
import { type ServeProcess, api, startServe, waitReady } from './serveProcess.js';

const t = tempDir('lifeline-sec-secrets-');
const dir = (...names: string[]) => path.join(t.dir, ...names);
const data = dir('data');
const restored = dir('restored');
const repo = dir('usb', 'repo');
const secretsDir = dir('secrets'); // the passphrase files themselves hold the secret by design

// Unique, so a hit can only be a leak (and long, so no binary file matches by chance).
const PASSPHRASE = `pp-${randomBytes(12).toString('hex')}-正确马电池`;
const WRONG_PASSPHRASE = `wrong-${randomBytes(12).toString('hex')}`;
const WEAK_PASSPHRASE = randomBytes(3).toString('hex').slice(0, 7); // < 8 characters: refused
const API_PASSPHRASE = `api-${randomBytes(12).toString('hex')}`;

interface Output {
  what: string;
  stream: 'stdout' | 'stderr';
  text: string;
}
const outputs: Output[] = [];
let token = '';
let serveStdout = '';

function run(args: string[], expectStatus: number): CliResult {
  const r = lifeline(args, { env: { LIFELINE_MEDIA_ROOTS: dir('media'), LIFELINE_HOME: undefined }, timeoutMs: 60_000 });
  const what = `lifeline ${args.join(' ')}`;
  outputs.push({ what, stream: 'stdout', text: r.stdout }, { what, stream: 'stderr', text: r.stderr });
  expect(r.status, `${what}\n${r.stderr}`).toBe(expectStatus);
  return r;
}

/** Every file below `root` (no symlinks followed). */
function filesBelow(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...filesBelow(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The forms a secret could be written in: as is, base64 (of its UTF-8), hex. */
function forms(secret: string): string[] {
  const b = Buffer.from(secret, 'utf8');
  return [secret, b.toString('base64'), b.toString('base64url'), b.toString('hex')];
}

function findIn(text: string | Buffer, secret: string): string | null {
  for (const f of forms(secret)) if ((typeof text === 'string' ? text.includes(f) : text.includes(Buffer.from(f)))) return f;
  return null;
}

/** Every row of every table of a SQLite file, as text (better-sqlite3; the sqlite3 CLI too when present). */
function dumpSqlite(file: string): { tables: string[]; text: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    const parts = tables.map((name) => `${name}: ${JSON.stringify(db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all(), (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))}`);
    const cli = spawnSync('sqlite3', ['-readonly', file, '.dump'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (cli.status === 0) parts.push(cli.stdout);
    return { tables, text: parts.join('\n') };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fs.mkdirSync(secretsDir, { mode: 0o700 });
  const write = (name: string, value: string) => {
    const f = path.join(secretsDir, name);
    fs.writeFileSync(f, `${value}\n`, { mode: 0o600 });
    return f;
  };
  const pass = write('pass.txt', PASSPHRASE);
  const wrong = write('wrong.txt', WRONG_PASSPHRASE);
  const weak = write('weak.txt', WEAK_PASSPHRASE);
  fs.mkdirSync(dir('media'));

  // The command line: backup (human and --json), list, verify, a wrong and a weak passphrase,
  // restore into an empty folder and over the live root (the previous root is kept).
  run(['backup', '--repo', repo, '--passphrase-file', pass, '--data', data], 0);
  run(['backup', '--repo', repo, '--passphrase-file', pass, '--data', data, '--json'], 0);
  run(['backups', 'list', '--repo', repo, '--passphrase-file', pass, '--json'], 0);
  run(['backups', 'verify', '--repo', repo, '--passphrase-file', pass, '--sample', '3'], 0);
  run(['backups', 'verify', '--repo', repo, '--passphrase-file', pass, '--json', '--sample', '3'], 0);
  expect(run(['backups', 'verify', '--repo', repo, '--passphrase-file', wrong, '--json'], 2).stdout).toMatch(/wrong-passphrase/);
  expect(run(['backup', '--repo', dir('usb', 'weak-repo'), '--passphrase-file', weak, '--data', data], 2).stderr).toMatch(/at least 8 characters/);
  expect(run(['restore', '--repo', repo, '--passphrase-file', wrong, '--data', restored], 2).stderr).toMatch(/wrong passphrase/);
  run(['restore', '--repo', repo, '--passphrase-file', pass, '--data', restored], 0);
  run(['restore', '--repo', repo, '--passphrase-file', pass, '--data', data, '--json'], 0);
  run(['ask', '如何请假？', '--data', restored], 0);

  // The server: the operator's output (token in the address), API calls carrying the token and
  // passphrases in their bodies, failed calls, the wizard's restore with a passphrase param.
  const s: ServeProcess = await startServe({ data, json: false, env: { LIFELINE_MEDIA_ROOTS: dir('media') } });
  try {
    token = s.token;
    await waitReady(s.port);
    const ok = async (method: string, body: unknown) => {
      const r = await api(s, method, body);
      expect(r.status, `${method}: ${JSON.stringify(r.body)}`).toBe(200);
      return r.body;
    };
    await ok('ask', { question: '如何请假？' });
    await ok('backup.init', { repo: dir('usb', 'api-repo'), passphrase: API_PASSPHRASE });
    await ok('backup.run', { repo, passphrase: PASSPHRASE });
    await ok('backup.snapshots', { repo, passphrase: PASSPHRASE });
    await ok('backup.verify', { repo, passphrase: PASSPHRASE, sample: 2 });
    expect((await api(s, 'backup.snapshots', { repo: dir('usb', 'api-repo'), passphrase: WRONG_PASSPHRASE })).body.error.code).toBe('wrong-passphrase');
    expect((await api(s, 'backup.run', { repo: dir('usb', 'weak-api'), passphrase: WEAK_PASSPHRASE })).body.error.code).toBe('weak-passphrase');
    await ok('backup.setPolicy', { passphraseFile: pass, targets: [repo], dailyAt: null });
    await ok('backup.status', {});
    await ok('integrity.verify', { deep: false });
    // Lose a document's original: the wizard's restore step then offers the restore action,
    // which takes the repository and its passphrase as params (and writes the audit log).
    const db = new Database(path.join(data, 'catalog.sqlite'), { readonly: true });
    const blob = (db.prepare('SELECT blob_sha256 AS h FROM document LIMIT 1').get() as { h: string }).h;
    db.close();
    fs.rmSync(path.join(data, 'blobs', 'sha256', blob.slice(0, 2), blob));
    await ok('wizard.start', { operator: 'night shift' });
    const checked = await ok('wizard.check', { step: 'restore' });
    const offered = checked.steps.find((x: { id: string }) => x.id === 'restore').findings.some((f: { actions: { id: string }[] }) => f.actions.some((a) => a.id === 'restore'));
    expect(offered, 'the restore action is offered once an original is lost').toBe(true);
    // A wrong passphrase: the action fails and its error goes to the audit log.
    const failed = await ok('wizard.action', { step: 'restore', action: 'restore', confirm: true, params: { repo, passphrase: WRONG_PASSPHRASE } });
    expect(failed.audit.some((a: { action: string; ok: boolean; detail: string }) => a.action === 'restore' && !a.ok && /wrong passphrase/.test(a.detail))).toBe(true);
    await ok('health.summary', {});
    await ok('jobs.list', {});
    await ok('wizard.finish', {}); // the report (reports/<id>.html) carries the audit log
    await ok('wizard.start', { operator: 'night shift' });
    await ok('wizard.check', { step: 'restore' });
    // The right one restores. (Known, not a secrets problem — see the report: the wizard keeps
    // the catalog connection the restore closed, so this call currently answers 500 "The
    // database connection is not open" after the restore itself succeeded.)
    const restoredByWizard = await api(s, 'wizard.action', { step: 'restore', action: 'restore', confirm: true, params: { repo, passphrase: PASSPHRASE } });
    if (restoredByWizard.status !== 200) expect(restoredByWizard.body.error.message).toBe('The database connection is not open');
    await ok('kb.list', {});
  } finally {
    await s.stop();
    serveStdout = s.stdout();
    outputs.push({ what: 'lifeline serve', stream: 'stdout', text: s.stdout() }, { what: 'lifeline serve', stream: 'stderr', text: s.stderr() });
  }
}, 300_000);

afterAll(() => t.cleanup());

const SECRETS = () => [
  ['the repository passphrase', PASSPHRASE],
  ['a wrong passphrase that was tried', WRONG_PASSPHRASE],
  ['a refused (too short) passphrase', WEAK_PASSPHRASE],
  ['a passphrase sent in API bodies', API_PASSPHRASE],
] as const;

describe('secrets never written', () => {
  it('prints the per-launch token on serve’s stdout, for the operator (the control)', () => {
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(serveStdout).toContain(`#token=${token}`);
  });

  it('the search finds a secret where one is (the control: the passphrase files themselves)', () => {
    expect(findIn(fs.readFileSync(path.join(secretsDir, 'pass.txt')), PASSPHRASE)).toBe(PASSPHRASE);
    expect(findIn(Buffer.from(`x${Buffer.from(API_PASSPHRASE).toString('base64')}x`), API_PASSPHRASE)).not.toBeNull();
    expect(findIn(serveStdout, token)).toBe(token);
  });

  it('no passphrase in the stdout or stderr of any command, nor the token outside serve’s stdout', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(24);
    for (const o of outputs) {
      for (const [name, secret] of SECRETS()) expect(findIn(o.text, secret), `${name} in ${o.stream} of ${o.what}`).toBeNull();
      if (!(o.what === 'lifeline serve' && o.stream === 'stdout')) expect(findIn(o.text, token), `the token in ${o.stream} of ${o.what}`).toBeNull();
    }
  });

  it('no passphrase and no token in any file Lifeline wrote: data roots, kept previous roots, repositories, reports', () => {
    const files = filesBelow(t.dir).filter((f) => !f.startsWith(secretsDir + path.sep));
    expect(files.some((f) => f.endsWith(`${path.sep}catalog.sqlite`))).toBe(true);
    expect(files.some((f) => f.includes(`${path.sep}.previous-`))).toBe(true);
    expect(files.some((f) => f.includes(`${path.sep}reports${path.sep}`))).toBe(true);
    expect(files.some((f) => f.endsWith('lifeline-repo.json'))).toBe(true);
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      for (const [name, secret] of [...SECRETS(), ['the per-launch token', token] as const]) expect(findIn(bytes, secret), `${name} in ${path.relative(t.dir, f)}`).toBeNull();
    }
  });

  it('no passphrase and no token in any row of any catalog: jobs, audit log, meta, verify runs, wizard runs', () => {
    const catalogs = filesBelow(t.dir).filter((f) => f.endsWith(`${path.sep}catalog.sqlite`));
    expect(catalogs.length).toBeGreaterThanOrEqual(3); // data, restored, a kept previous root
    let rowsSeen = '';
    for (const f of catalogs) {
      const { tables, text } = dumpSqlite(f);
      expect(tables, f).toEqual(expect.arrayContaining(['job', 'audit_log', 'meta', 'verify_run', 'wizard_run']));
      for (const [name, secret] of [...SECRETS(), ['the per-launch token', token] as const]) expect(findIn(text, secret), `${name} in ${path.relative(t.dir, f)}`).toBeNull();
      rowsSeen += text;
    }
    // The dumps really hold what was searched: backup jobs, the policy, the wizard's restore
    // attempt (the live root was restored by the wizard: the server's rows are in .previous-*).
    for (const expected of ['Backup to', 'backup_policy', '"action":"restore"', 'wrong passphrase for the repository', 'pass.txt']) {
      expect(rowsSeen.includes(expected), expected).toBe(true);
    }
  });
});

describe('what the Electron shell logs about a blocked request', () => {
  const SECRET = 's3cr3t-7Qx';
  const urls = [
    `https://example.com/a?token=${SECRET}`,
    `https://example.com?token=${SECRET}`,
    `https://example.com/?${SECRET}`,
    `https://example.com/path/${SECRET}?q=1`,
    `https://example.com/#token=${SECRET}`,
    `https://example.com/x?a=1&token=${SECRET}#frag`,
    `http://10.0.0.5:8080/login?user=admin&password=${SECRET}`,
    `https://user:${SECRET}@example.com/`,
    `https://${SECRET}@example.com/?x=${SECRET}`,
    `ws://updates.example.org/socket?auth=${SECRET}`,
    `wss://[2001:db8::1]:8443/s?k=${SECRET}`,
    `ftp://files.example.com/pub?${SECRET}`,
    `file:///etc/passwd?${SECRET}`,
    `data:text/plain,${SECRET}?x=${SECRET}`,
    `blob:https://example.com/uuid?${SECRET}`,
    `javascript:alert(1)//?token=${SECRET}`,
    `mailto:someone@example.com?subject=${SECRET}`,
    `https://example.com/%3Ftoken=${SECRET}`,
    `https://example.com/a;jsessionid=${SECRET}`,
    `not a url ?token=${SECRET}`,
    `https://exa mple.com/?token=${SECRET}`,
  ];

  it('never contains a query string (nor a path, fragment or credentials)', () => {
    for (const url of urls) {
      const d = describeBlockedRequest(url);
      expect(d, url).not.toContain('?');
      expect(d, url).not.toContain('#');
      expect(d, url).not.toContain(SECRET);
      expect(d, url).not.toContain('@');
      expect(d, url).toMatch(/^([a-z][a-z0-9+.-]*:(\/\/[^/?#@\s]+)?|\(unparseable URL\))$/);
    }
    expect(describeBlockedRequest(`https://example.com/a?token=${SECRET}`)).toBe('https://example.com');
    expect(describeBlockedRequest(`http://10.0.0.5:8080/login?password=${SECRET}`)).toBe('http://10.0.0.5:8080');
  });

  it('never contains a query string for generated URLs either', () => {
    const hosts = ['example.com', '10.0.0.5', '[fe80::1]', 'xn--fsq.example', 'a.b.c.d.example'];
    const paths = ['', '/', '/a/b', '/%2e%2e/x', '/a;b=c'];
    for (const scheme of ['http', 'https', 'ws', 'wss', 'ftp']) {
      for (const host of hosts) {
        for (const p of paths) {
          for (const port of ['', ':8080']) {
            const secret = randomBytes(6).toString('hex');
            const url = `${scheme}://${host}${port}${p}?token=${secret}&x=${secret}#${secret}`;
            const d = describeBlockedRequest(url);
            expect(d, url).not.toContain('?');
            expect(d, url).not.toContain(secret);
          }
        }
      }
    }
  });
});

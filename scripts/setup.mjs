#!/usr/bin/env node
// One idempotent setup for a fresh Debian 12 machine that reaches only the npm registry and
// Debian's package mirror. `npm start` and `npm test` run it first; when everything is already
// in place it returns in well under a second.
//
//   node scripts/setup.mjs               full check, installs and builds what is missing
//   node scripts/setup.mjs --quiet       the same, silent when nothing needs doing
//   node scripts/setup.mjs --build-only  only recompile TypeScript and the renderer
//
// What it does, in order:
//   1. Debian packages (apt-get as root; otherwise prints the exact apt-get line and stops).
//   2. npm dependencies from package-lock.json with install scripts off (.npmrc), because
//      electron's and faiss-node's scripts download from GitHub.
//   3. better-sqlite3's native addon (node-gyp from source when no prebuilt can be fetched).
//   4. faiss-node's native addon against Debian's libfaiss-dev (see scripts/faiss/).
//   5. TypeScript (electron/, scripts/) into dist/, and the renderer with Vite into dist/renderer.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const stampFile = path.join(root, '.lifeline-setup.json');

// Debian packages: what each is for. Tests need more than the console does, but one list keeps
// a fresh machine and CI identical.
const DEBIAN_PACKAGES = {
  'libfaiss-dev': 'FAISS 1.7.3 headers and static library for faiss-node',
  'libopenblas-dev': 'BLAS for FAISS',
  'liblapack-dev': 'LAPACK for FAISS',
  'g++': 'native addons (faiss-node, better-sqlite3)',
  make: 'native addons',
  python3: 'node-gyp',
  chromium: 'end-to-end tests of the console in headless Chromium',
  age: 'interoperability tests: the standard age tool decrypts backups',
  'fonts-wqy-microhei': 'Chinese glyphs in the console screenshots taken by the end-to-end tests',
  'docker.io': 'a real Docker engine for the services checks (the tests start a private dockerd)',
  'busybox-static': 'a tiny root filesystem for test container images (docker import)',
  'docker-compose': 'checks the shipped resources/compose/docker-compose.yml against a real engine',
  strace: 'the air-gap test traces every connect() of a whole cycle',
  iproute2: 'the air-gap test checks the network namespace has only loopback',
  sqlite3: 'the secrets test dumps every catalog table',
};

function log(msg) {
  if (!quiet) console.log(`[setup] ${msg}`);
}
function say(msg) {
  console.log(`[setup] ${msg}`);
}
function fail(msg) {
  console.error(`[setup] ${msg}`);
  process.exit(1);
}
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8', ...opts });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail(`${cmd} ${argv.join(' ')} failed with exit status ${r.status}`);
  }
  return r;
}
function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    return {};
  }
}
function writeStamp(stamp) {
  fs.writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + '\n');
}
function sha256File(p) {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

// 1. Debian packages -------------------------------------------------------------------------
function missingDebianPackages() {
  const names = Object.keys(DEBIAN_PACKAGES);
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...names], { encoding: 'utf8' });
  if (r.error) fail('dpkg-query is not available: this setup supports Debian 12 (bookworm) and its derivatives.');
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => /\sii\s*$/.test(l))
      .map((l) => l.split(' ')[0].replace(/:.*$/, '')),
  );
  return names.filter((n) => !installed.has(n));
}

function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const line = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid && process.getuid() !== 0) {
    fail(
      `missing Debian packages:\n${missing.map((m) => `  ${m} — ${DEBIAN_PACKAGES[m]}`).join('\n')}\n` +
        `Run as root:\n  apt-get update && ${line}\nthen run this command again.`,
    );
  }
  say(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  const still = missingDebianPackages();
  if (still.length) fail(`these Debian packages could not be installed: ${still.join(' ')}`);
}

// 2. npm dependencies --------------------------------------------------------------------------
function ensureNodeModules(stamp) {
  const lockHash = sha256File(path.join(root, 'package-lock.json'));
  const present = fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'));
  if (present && stamp.lockHash === lockHash) return false;
  say('installing npm dependencies (install scripts off; native parts are built next)');
  run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
  stamp.lockHash = lockHash;
  return true;
}

// 3 and 4. Native addons -----------------------------------------------------------------------
function nodeCheck(code) {
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

const SQLITE_CHECK = `
const D = require('better-sqlite3'); const db = new D(':memory:');
db.exec("create virtual table t using fts5(x, tokenize='trigram')");`;

function ensureBetterSqlite() {
  if (nodeCheck(SQLITE_CHECK).ok) return;
  say('building better-sqlite3 (about a minute on 2 cores)');
  run('npm', ['rebuild', 'better-sqlite3', '--ignore-scripts=false']);
  const c = nodeCheck(SQLITE_CHECK);
  if (!c.ok) fail(`better-sqlite3 does not load after building:\n${c.out}`);
}

// A round trip through the addon: build an index, write it, read it back, search it.
const FAISS_CHECK = `
const fs = require('fs'), os = require('os'), path = require('path');
const { IndexFlatIP, Index } = require('faiss-node');
const ix = new IndexFlatIP(4); ix.add([1,0,0,0, 0,1,0,0, 0,0,1,0]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeline-faiss-'));
const f = path.join(dir, 'check.faiss'); ix.write(f);
const back = Index.read(f); const r = back.search([0,1,0,0], 1);
fs.rmSync(dir, { recursive: true });
if (back.ntotal() !== 3 || r.labels[0] !== 1) throw new Error('round trip gave ' + JSON.stringify(r));
const fromBuf = Index.fromBuffer(ix.toBuffer()); if (fromBuf.ntotal() !== 3) throw new Error('toBuffer');`;

function findLibFaiss() {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib']) {
    const p = path.join(dir, 'libfaiss.a');
    if (fs.existsSync(p)) return p;
  }
  fail('libfaiss.a not found: install Debian package libfaiss-dev');
}

function nodeGypScript() {
  const candidates = [
    path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) fail('node-gyp not found (it ships with npm); reinstall npm');
  return found;
}

function ensureFaiss() {
  if (nodeCheck(FAISS_CHECK).ok) return;
  say("building faiss-node's addon against Debian's libfaiss-dev (a few minutes on 2 cores)");
  const pkgDir = path.join(root, 'node_modules', 'faiss-node');
  const gyp = fs
    .readFileSync(path.join(root, 'scripts', 'faiss', 'binding.gyp'), 'utf8')
    .replace('FAISS_COMPAT_H', path.join(root, 'scripts', 'faiss', 'faiss_compat.h'))
    .replace('LIBFAISS_A', findLibFaiss());
  fs.writeFileSync(path.join(pkgDir, 'binding.gyp'), gyp);
  const nodedir = fs.existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : [];
  run(process.execPath, [nodeGypScript(), 'rebuild', '--release', `--jobs=${Math.max(1, (globalThis.navigator?.hardwareConcurrency ?? 2))}`, ...nodedir], {
    cwd: pkgDir,
  });
  const c = nodeCheck(FAISS_CHECK);
  if (!c.ok) fail(`faiss-node was built but its round trip failed:\n${c.out}`);
}

// 5. Compile -----------------------------------------------------------------------------------
const SOURCE_DIRS = ['electron', 'renderer', 'scripts', 'resources'];
function newestSourceMtime() {
  let newest = 0;
  const walk = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) if (e !== 'node_modules') walk(path.join(p, e));
    } else if (st.mtimeMs > newest) newest = st.mtimeMs;
  };
  for (const d of SOURCE_DIRS) if (fs.existsSync(path.join(root, d))) walk(path.join(root, d));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'vite.config.ts', 'package-lock.json']) {
    const p = path.join(root, f);
    if (fs.existsSync(p)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function build(stamp, force) {
  const newest = newestSourceMtime();
  const built = fs.existsSync(path.join(root, 'dist', 'electron', 'cli.js')) && fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'));
  if (!force && built && stamp.builtFrom >= newest) return;
  log('compiling TypeScript and the renderer');
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  run(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', quiet ? 'error' : 'info']);
  stamp.builtFrom = newest;
}

// -----------------------------------------------------------------------------------------------
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) fail(`Node.js ${process.versions.node} is too old: Lifeline needs Node.js 20.19 or newer.`);

const stamp = readStamp();
if (args.has('--build-only')) {
  build(stamp, true);
} else {
  ensureDebianPackages();
  ensureNodeModules(stamp);
  ensureBetterSqlite();
  ensureFaiss();
  build(stamp, false);
}
writeStamp(stamp);
log('ready');

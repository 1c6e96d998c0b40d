// Disaster drills (DESIGN.md: "monthly drills that inject faults on purpose"): each scenario
// runs on a sandbox copy of the data root — never the live one — injects its fault, and
// measures the time until Lifeline's own checks detect it and the time to a verified recovery
// (checksums, catalog, indexes, and the same answers to the same questions as before).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type Dockerode from 'dockerode';
import Database from 'better-sqlite3';
import type { DrillResult, DrillScenario, DrillStep } from '../../api/contract.js';
import type { LifelineApp } from '../app.js';
import { appRoot } from '../util/appRoot.js';
import { createScratchDrive } from '../system/scratchDrive.js';
import { syncFilesystem } from '../backup/repo.js';

export interface DrillEnv {
  /** The live data root: only read (copied), never changed. */
  liveRoot: string;
  /** A consistent copy of the live catalog (VACUUM INTO, from the app that holds it). */
  copyCatalog(dest: string): void;
  /** Opens an app on a folder (the sandbox). */
  open(dataDir: string, options?: { maintenance?: boolean }): Promise<LifelineApp>;
  /** Docker and the site's compose projects and expected ports, for container-down / port-conflict. */
  docker(): Dockerode | null;
  site(): { composeProjects: string[]; expectedPorts: number[] };
}

/** Questions whose answers must be the same after recovery (ids dropped: rows may be renumbered). */
const PROBES_MAX = 6;

class Recorder {
  readonly steps: DrillStep[] = [];
  private t0 = 0;
  detectMs: number | null = null;
  recoverMs: number | null = null;
  log(what: string, ok = true): void {
    this.steps.push({ at: new Date().toISOString(), what, ok });
  }
  faultInjected(what: string): void {
    this.log(`fault: ${what}`);
    this.t0 = Date.now();
  }
  detected(what: string): void {
    this.detectMs = Date.now() - this.t0;
    this.log(`detected: ${what}`);
  }
  recovered(what: string): void {
    this.recoverMs = Date.now() - this.t0;
    this.log(`recovered: ${what}`);
  }
}

export async function runDrill(scenario: DrillScenario, env: DrillEnv): Promise<DrillResult> {
  const id = randomUUID();
  const startedAt = new Date().toISOString();
  const sandboxTop = path.join(env.liveRoot, '.drills', id);
  const rec = new Recorder();
  let skipped: string | null = null;
  let dataLost = false;
  try {
    const sandbox = path.join(sandboxTop, 'data');
    await copyDataRoot(env, sandbox);
    rec.log(`sandbox copy of the data root at ${sandbox}`);
    const fn = SCENARIOS[scenario];
    const out = await fn({ env, sandbox, top: sandboxTop, rec });
    skipped = out.skipped ?? null;
    dataLost = out.dataLost ?? false;
  } catch (err) {
    rec.log(`the drill stopped: ${(err as Error).message}`, false);
  } finally {
    fs.rmSync(sandboxTop, { recursive: true, force: true });
    const drills = path.join(env.liveRoot, '.drills');
    if (fs.existsSync(drills) && fs.readdirSync(drills).length === 0) fs.rmdirSync(drills);
  }
  return {
    id,
    scenario,
    startedAt,
    detected: rec.detectMs !== null,
    recovered: rec.recoverMs !== null,
    detectMs: rec.detectMs,
    recoverMs: rec.recoverMs,
    dataLost,
    skipped,
    steps: rec.steps,
  };
}

interface Ctx {
  env: DrillEnv;
  sandbox: string;
  top: string;
  rec: Recorder;
}
type Scenario = (c: Ctx) => Promise<{ skipped?: string; dataLost?: boolean }>;

// -- the sandbox ---------------------------------------------------------------------------------

/** A consistent copy: the catalog by VACUUM INTO, immutable files by hard link (or copy). */
async function copyDataRoot(env: DrillEnv, dest: string): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  env.copyCatalog(path.join(dest, 'catalog.sqlite'));
  for (const sub of ['blobs', 'segments', 'models', 'golden']) linkTree(path.join(env.liveRoot, sub), path.join(dest, sub));
}

function linkTree(src: string, dest: string): void {
  if (!fs.existsSync(src)) return;
  fs.mkdirSync(dest, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const s = path.join(src, e.name);
    const d = path.join(dest, e.name);
    if (e.isDirectory()) linkTree(s, d);
    else {
      try {
        fs.linkSync(s, d);
      } catch {
        fs.copyFileSync(s, d);
      }
    }
  }
}

/** Replaces a file with damaged content (a new inode: a hard-linked live file is never touched). */
function damage(file: string, how: 'flip' | 'truncate' | 'header'): void {
  const b = Buffer.from(fs.readFileSync(file));
  fs.rmSync(file);
  if (how === 'truncate') fs.writeFileSync(file, b.subarray(0, Math.floor(b.length / 2)));
  else if (how === 'header') fs.writeFileSync(file, Buffer.concat([Buffer.alloc(Math.min(100, b.length), 0x41), b.subarray(100)]));
  else {
    for (let i = 0; i < 8; i++) b[64 + Math.floor(Math.random() * Math.max(1, b.length - 64))]! ^= 0x10;
    fs.writeFileSync(file, b);
  }
}

async function probeAnswers(app: LifelineApp): Promise<string[]> {
  const sets = await app.handlers['golden.sets']({}).catch(() => []);
  const questions = sets.flatMap((s) => s.questions.map((q) => ({ q: q.question, kb: s.kb }))).slice(0, PROBES_MAX);
  if (questions.length === 0) for (const k of app.knowledge.listKbs().slice(0, 2)) questions.push({ q: k.name, kb: k.name });
  const out: string[] = [];
  for (const { q, kb } of questions) {
    const r = await app.knowledge.ask({ question: q, kb });
    out.push(JSON.stringify({ a: r.answer, c: r.citations.map((c) => [c.kb, c.document, c.location]) }));
  }
  return out;
}

const segmentFiles = (root: string) => (fs.existsSync(path.join(root, 'segments')) ? fs.readdirSync(path.join(root, 'segments')).filter((f) => !f.startsWith('.')).map((f) => path.join(root, 'segments', f)) : []);

async function verifiedSameAnswers(c: Ctx, before: string[]): Promise<{ ok: boolean; same: boolean }> {
  const app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    const v = await app.verify(true);
    const after = await probeAnswers(app);
    const same = JSON.stringify(after) === JSON.stringify(before);
    c.rec.log(`verify --deep: ${v.ok ? 'ok' : v.problems.map((p) => p.code).join(', ')}; answers ${same ? 'the same as before' : 'DIFFERENT from before'}`, v.ok && same);
    return { ok: v.ok, same };
  } finally {
    await app.close();
  }
}

async function before(c: Ctx): Promise<string[]> {
  const app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    return await probeAnswers(app);
  } finally {
    await app.close();
  }
}

/** A backup of the sandbox into a sandbox repository (what the USB drive would hold). */
async function sandboxBackup(c: Ctx, repoDir = path.join(c.top, 'repo')): Promise<{ repo: string; pass: string }> {
  const pass = randomBytes(12).toString('hex');
  const app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    await app.runBackup(repoDir, pass);
  } finally {
    await app.close();
  }
  c.rec.log(`backup of the sandbox made to ${repoDir}`);
  return { repo: repoDir, pass };
}

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [path.join(appRoot(), 'scripts', 'lifeline.mjs'), ...args], { stdio: 'ignore' });
}

function killAfter(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

// -- the scenarios -------------------------------------------------------------------------------

const indexFault =
  (how: 'delete' | 'flip'): Scenario =>
  async (c) => {
    const base = await before(c);
    const files = segmentFiles(c.sandbox);
    if (files.length === 0) return { skipped: 'the data root has no vector segments' };
    for (const f of files) how === 'delete' ? fs.rmSync(f) : damage(f, 'flip');
    c.rec.faultInjected(how === 'delete' ? `deleted ${files.length} vector segment files (the reference incident's lost index)` : `flipped bits in ${files.length} segment files`);
    const app = await c.env.open(c.sandbox, { maintenance: false });
    try {
      const v = await app.verify(how === 'flip');
      const found = v.problems.filter((p) => p.code.startsWith('segment-') || p.code.startsWith('ann-'));
      if (found.length) c.rec.detected(`verify${how === 'flip' ? ' --deep' : ''}: ${[...new Set(found.map((p) => p.code))].join(', ')}`);
      const r = await app.repair();
      c.rec.log(`repair: ${r.actions.map((a) => a.action).join('; ')}`, r.ok);
    } finally {
      await app.close();
    }
    const after = await verifiedSameAnswers(c, base);
    if (after.ok && after.same) c.rec.recovered('segments rebuilt from the catalog; same answers');
    return { dataLost: !after.same };
  };

const catalogCorrupt: Scenario = async (c) => {
  const base = await before(c);
  const { repo, pass } = await sandboxBackup(c);
  damage(path.join(c.sandbox, 'catalog.sqlite'), 'header');
  c.rec.faultInjected('overwrote the catalog header');
  try {
    const app = await c.env.open(c.sandbox, { maintenance: false });
    const v = await app.verify(false);
    await app.close();
    if (v.problems.some((p) => p.code === 'catalog-corrupt')) c.rec.detected('verify: catalog-corrupt → needs a restore');
  } catch (err) {
    c.rec.detected(`the catalog cannot be opened: ${(err as Error).message.slice(0, 160)}`);
  }
  // Routed to a restore: a fresh target, as on a replacement disk.
  fs.rmSync(c.sandbox, { recursive: true, force: true });
  fs.mkdirSync(c.sandbox);
  const target = await c.env.open(c.sandbox, { maintenance: false });
  try {
    const r = await target.runRestore(repo, pass);
    c.rec.log(`restored snapshot ${r.snapshot} (staged and verified before the swap)`);
  } finally {
    await target.close();
  }
  const after = await verifiedSameAnswers(c, base);
  if (after.ok && after.same) c.rec.recovered('restored from the backup; same answers');
  return { dataLost: !after.same };
};

const modelMissing: Scenario = async (c) => {
  // The sandbox gets a knowledge base built with a GGUF embedding model (a tiny generated one
  // when the site has none), so the drill exercises the model check whatever the site runs.
  const { writeTinyLlamaGguf } = await import('../models/tinyGguf.js');
  const modelName = 'drill-embedder.gguf';
  const modelPath = path.join(c.sandbox, 'models', modelName);
  writeTinyLlamaGguf(modelPath, { contextLength: 512, seed: 11, pooling: 'mean', name: 'drill embedder' });
  const docs = path.join(c.top, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'drill.md'), '# 演练\n夜班值班电话为分机6000。');
  let app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    await app.handlers['kb.create']({ name: 'drill-model', embedder: modelName });
    await app.handlers['kb.upload']({ kb: 'drill-model', name: 'drill.md', dataBase64: fs.readFileSync(path.join(docs, 'drill.md')).toString('base64') });
  } finally {
    await app.close();
  }
  const base = await before(c);
  const { repo, pass } = await sandboxBackup(c);
  fs.rmSync(modelPath);
  c.rec.faultInjected(`deleted the model file ${modelName}`);
  app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    const v = await app.verify(false);
    if (v.problems.some((p) => p.code === 'embedder-missing')) c.rec.detected('verify: embedder-missing (the knowledge base cannot be searched by meaning)');
    // Recovery: the model file comes back from the backup (a restore of the snapshot).
    const r = await app.runRestore(repo, pass);
    c.rec.log(`restored snapshot ${r.snapshot}, which holds the model file`);
  } finally {
    await app.close();
  }
  const after = await verifiedSameAnswers(c, base);
  if (after.ok && after.same && fs.existsSync(modelPath)) c.rec.recovered('model file restored; same answers');
  return { dataLost: !after.same };
};

const diskFull: Scenario = async (c) => {
  const drive = createScratchDrive(path.join(c.top, 'disk'), 16);
  if (!drive) return { skipped: 'needs a small loop-mounted filesystem (root, losetup, mkfs.ext4)' };
  try {
    // A small data root of its own on the small disk (the site's data would not fit).
    const small = path.join(drive.mountpoint, 'data');
    const doc = Buffer.from('# 演练\n夜班值班电话为分机6000。');
    const app = await c.env.open(small, { maintenance: false });
    try {
      await app.handlers['kb.create']({ name: 'drill-full' });
      await app.handlers['kb.upload']({ kb: 'drill-full', name: 'small.md', dataBase64: doc.toString('base64') });
      const base = await probeAnswers(app);
      const filler = path.join(drive.mountpoint, 'filler');
      fillUntilFull(filler);
      c.rec.faultInjected('filled the disk');
      // Larger than what is left on the full disk, small enough to fit once space is freed.
      const big = Buffer.from(Array.from({ length: 3000 }, (_, i) => `第${i}行：值班人员检查${i % 97}号机柜的电源与磁盘指示灯，并记录读数${i * 7}。`).join('\n'));
      const r = await app.handlers['kb.upload']({ kb: 'drill-full', name: 'big.txt', dataBase64: big.toString('base64') }).catch((err: Error) => ({ status: 'failed' as const, error: err.message }));
      if (r.status === 'failed') c.rec.detected(`ingest refused: ${String(r.error).slice(0, 160)}`);
      const v = await app.verify(true);
      c.rec.log(`after the failed write the data root verifies: ${v.ok}`, v.ok);
      fs.rmSync(filler, { force: true });
      // ext4 reuses freed blocks only once its journal commits: flush it, as an operator's
      // clean-up followed by a sync would.
      syncFilesystem(drive.mountpoint);
      c.rec.log('freed space (removed the filler)');
      const again = await app.handlers['kb.upload']({ kb: 'drill-full', name: 'big.txt', dataBase64: big.toString('base64') });
      const v2 = await app.verify(true);
      const same = JSON.stringify(await probeAnswers(app)) === JSON.stringify(base);
      if (again.status === 'added' && v2.ok) c.rec.recovered('the same document ingested once space was freed; verify ok');
      return { dataLost: !v.ok || !same };
    } finally {
      await app.close();
    }
  } finally {
    drive.detach();
  }
};

function fillUntilFull(file: string): void {
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(1 << 20, 0x5a);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch {
    /* ENOSPC: full */
  } finally {
    fs.closeSync(fd);
  }
}

const containerDown: Scenario = async (c) => {
  const docker = c.env.docker();
  const project = c.env.site().composeProjects[0];
  if (!docker || !project) return { skipped: 'needs a Docker engine and a compose project named in the site settings (lifeline site set --compose-projects …)' };
  const list = await docker.listContainers({ all: false, filters: { label: [`com.docker.compose.project=${project}`] } });
  const victim = list[0];
  if (!victim) return { skipped: `no running container in compose project ${project}` };
  const name = (victim.Names[0] ?? victim.Id).replace(/^\//, '');
  await docker.getContainer(victim.Id).stop({ t: 0 });
  c.rec.faultInjected(`stopped container ${name} (project ${project})`);
  const app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    let run = await app.handlers['doctor.run']({});
    const f = run.steps.find((s) => s.id === 'services')?.findings.find((x) => x.code === 'container-stopped' || x.evidence.join(' ').includes(name));
    if (f) c.rec.detected(`doctor services: ${f.code}`);
    const action = f?.actions.find((a) => a.id.startsWith('start'));
    if (action) {
      await app.wizard.start('drill');
      await app.handlers['wizard.check']({ step: 'services' });
      await app.handlers['wizard.action']({ step: 'services', action: action.id, finding: f!.code });
    } else await docker.getContainer(victim.Id).start();
    run = await app.handlers['doctor.run']({});
    const services = run.steps.find((s) => s.id === 'services')!;
    if ((await docker.getContainer(victim.Id).inspect()).State.Running && !services.findings.some((x) => x.code === 'container-stopped')) c.rec.recovered(`container ${name} running again; services check clean of it`);
    // The drill's own wizard run is closed so it does not linger as the site's recovery.
    if (app.wizard.current()) app.wizard.finish();
  } finally {
    await app.close();
  }
  return {};
};

const portConflict: Scenario = async (c) => {
  const port = c.env.site().expectedPorts[0] ?? 7860;
  const holder = net.createServer();
  const listening = await new Promise<boolean>((resolve) => {
    holder.once('error', () => resolve(false));
    holder.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!listening) return { skipped: `port ${port} is already in use by something else; the drill does not touch it` };
  c.rec.faultInjected(`another process (this drill, pid ${process.pid}) holds port ${port}`);
  const app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    const docker = c.env.docker();
    const { checkServices, findPortHolders } = await import('../system/docker.js');
    const r = await checkServices(docker, { expectedPorts: [port], projects: c.env.site().composeProjects });
    const f = r.findings.find((x) => x.code.includes('port'));
    const holders = findPortHolders(port);
    if (f || holders.some((h) => h.pid === process.pid)) c.rec.detected(f ? `services: ${f.code}: ${f.message.slice(0, 160)}` : `port ${port} held by pid ${process.pid}`);
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    c.rec.log(`stopped the process holding port ${port}`);
    const again = findPortHolders(port);
    if (!again.some((h) => h.pid === process.pid)) c.rec.recovered(`port ${port} is free for the service`);
  } finally {
    holder.close();
    await app.close();
  }
  return {};
};

const usbPulled: Scenario = async (c) => {
  const drive = createScratchDrive(path.join(c.top, 'usb'), 64);
  if (!drive) return { skipped: 'needs a loop-mounted filesystem as the USB drive (root, losetup, mkfs.ext4)' };
  try {
    const base = await before(c);
    const { repo, pass } = await sandboxBackup(c, path.join(drive.mountpoint, 'repo'));
    const app = await c.env.open(c.sandbox, { maintenance: false });
    let pulled = false;
    // Pulled once the restore has unlocked the repository, read the snapshot and made its staging
    // folder, as it starts on the files: with small documents packed, the few files of a small
    // data root are all being read once the first has landed, and would come from the page cache.
    const off = app.jobs.onUpdate((j) => {
      if (j.kind === 'restore' && j.total > 0 && j.done < j.total && !pulled) {
        pulled = true;
        drive.pull();
        c.rec.faultInjected('pulled the USB drive in the middle of the restore');
      }
    });
    try {
      await app.runRestore(repo, pass);
      c.rec.log('the restore finished before the drive could be pulled', false);
    } catch (err) {
      if (pulled) c.rec.detected(`the restore stopped: ${(err as Error).message.slice(0, 160)}`);
    } finally {
      off();
      await app.close();
    }
    const live = await verifiedSameAnswers(c, base);
    c.rec.log(`the data root was left untouched: ${live.ok && live.same}`, live.ok && live.same);
    drive.remount();
    c.rec.log('plugged the drive back in');
    const app2 = await c.env.open(c.sandbox, { maintenance: false });
    try {
      await app2.runRestore(repo, pass);
    } finally {
      await app2.close();
    }
    const after = await verifiedSameAnswers(c, base);
    if (after.ok && after.same) c.rec.recovered('restore completed after re-plugging; same answers');
    return { dataLost: !after.same };
  } finally {
    drive.detach();
  }
};

const powerCutMidIngest: Scenario = async (c) => {
  const docs = path.join(c.top, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  for (let i = 0; i < 400; i++) fs.writeFileSync(path.join(docs, `d${i}.md`), `# 文件${i}\n第${i}号文件：值班记录${randomBytes(8).toString('hex')}。检查${i}号机柜。\n`);
  const app0 = await c.env.open(c.sandbox, { maintenance: false });
  await app0.handlers['kb.create']({ name: 'drill-ingest' });
  await app0.close();
  const child = cli(['ingest', docs, '--kb', 'drill-ingest', '--data', c.sandbox]);
  // The cut lands while the ingest is under way: once its first files are staged.
  await waitFor(() => stagedOrCommitted(c.sandbox) > 0, 30_000);
  await killAfter(child, Math.floor(Math.random() * 150));
  c.rec.faultInjected('SIGKILL of an ingest (power cut)');
  const app = await c.env.open(c.sandbox); // with start-up maintenance, as after a reboot
  try {
    if (app.info.uncleanShutdown || app.startup.resumedIngests.length) c.rec.detected(`start-up: ${app.info.uncleanShutdown ? 'unclean shutdown noticed' : ''}${app.startup.resumedIngests.length ? `; resumed ${app.startup.resumedIngests.map((r) => `${r.documents} documents into ${r.kb}`).join(', ')}` : ''}`);
    const r = await app.knowledge.ingest('drill-ingest', (await import('../kb/knowledge.js')).KnowledgeService.collectInputs([docs]));
    c.rec.log(`ingest again: ${r.added} added, ${r.unchanged} unchanged, ${r.failed} failed`);
    const v = await app.verify(true);
    const n = app.knowledge.documents('drill-ingest').length;
    if (v.ok && n === 400) c.rec.recovered(`all 400 documents present once; verify ok`);
    return { dataLost: n !== 400 };
  } finally {
    await app.close();
  }
};

const powerCutMidBackup: Scenario = async (c) => {
  const { repo, pass } = await sandboxBackup(c);
  const passFile = path.join(c.top, 'pass');
  fs.writeFileSync(passFile, pass, { mode: 0o600 });
  // Something new to back up, so the killed backup has real work.
  const app0 = await c.env.open(c.sandbox, { maintenance: false });
  await app0.handlers['kb.create']({ name: 'drill-backup' });
  for (let i = 0; i < 40; i++) await app0.handlers['kb.upload']({ kb: 'drill-backup', name: `n${i}.md`, dataBase64: Buffer.from(`# ${i}\n${randomBytes(20000).toString('base64')}`).toString('base64') });
  await app0.close();
  const child = cli(['backup', '--repo', repo, '--passphrase-file', passFile, '--data', c.sandbox]);
  await killAfter(child, 1500 + Math.floor(Math.random() * 800));
  c.rec.faultInjected('SIGKILL of a backup (power cut)');
  const { Repository } = await import('../backup/repo.js');
  const { verifyRepository } = await import('../backup/backup.js');
  const r = await Repository.open(repo, pass);
  const v = await verifyRepository(r);
  const leftovers = walk(path.join(repo, 'data')).filter((f) => path.basename(f).includes('.tmp-'));
  c.rec.detected(`repository after the cut: ${r.snapshotFiles().length} snapshots, ${leftovers.length} unfinished temp files, verify ${v.ok ? 'ok' : 'DAMAGED'}`);
  const app = await c.env.open(c.sandbox, { maintenance: false });
  try {
    await app.runBackup(repo, pass);
  } finally {
    await app.close();
  }
  const v2 = await verifyRepository(await Repository.open(repo, pass));
  if (v.ok && v2.ok) c.rec.recovered('the earlier snapshots stayed readable; a new backup completed and verifies');
  return { dataLost: !v.ok };
};

function stagedOrCommitted(root: string): number {
  try {
    const db = new Database(path.join(root, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT (SELECT count(*) FROM ingest_item) + (SELECT count(*) FROM document d JOIN kb k ON k.id = d.kb_id WHERE k.name = 'drill-ingest') AS n").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 15));
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const SCENARIOS: Record<DrillScenario, Scenario> = {
  'index-lost': indexFault('delete'),
  'index-corrupt': indexFault('flip'),
  'catalog-corrupt': catalogCorrupt,
  'model-missing': modelMissing,
  'disk-full': diskFull,
  'container-down': containerDown,
  'port-conflict': portConflict,
  'usb-pulled-mid-restore': usbPulled,
  'power-cut-mid-ingest': powerCutMidIngest,
  'power-cut-mid-backup': powerCutMidBackup,
};

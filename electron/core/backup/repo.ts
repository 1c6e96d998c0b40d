// The backup repository: a folder on a USB drive, a NAS mount or a second disk (README
// "Backup repository format"). Like restic's: content-addressed encrypted blobs written once,
// then an encrypted snapshot manifest, each by atomic rename, so a crash or a pulled drive at
// any moment leaves a readable repository.
//
//   lifeline-repo.json            plaintext: format, id, the repository's age recipient
//   keys/repo-key.age             the repository's age identity, encrypted with the passphrase
//                                 (age scrypt: one scrypt per unlock, not one per file)
//   data/<ab>/<name>.age          one file's content, age-encrypted to the repository recipient;
//                                 <name> = HMAC-SHA256(name key, sha256(content)), so the drive
//                                 alone does not reveal which content it holds
//   snapshots/<time>-<id>.age     the snapshot manifest (JSON), age-encrypted, written last
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../api/handlers.js';
import { describeErrno, ensureDir, fsyncDir, writeFileAtomic } from '../store/atomic.js';
import * as age from './age.js';
import * as offload from './offload.js';
import { isAlive } from '../store/lock.js';
import { packMember } from './pack.js';

export const REPO_MARKER = 'lifeline-repo.json';
const KEY_FILE = 'keys/repo-key.age';

export interface RepoInfo {
  format: 'lifeline-backup-repository';
  version: 1;
  id: string;
  created: string;
  /** The age recipient blobs and manifests are encrypted to (public; the identity is in keys/). */
  recipient: string;
}

/**
 * A data root's key to one repository (README "Backups without the passphrase"): the repository's
 * public recipient and its blob-name key. It encrypts new blobs and names them as the repository
 * does, and decrypts nothing. The name key lets its holder tell which content a blob holds, which
 * tells nothing to anyone holding the data root itself.
 */
export interface WriteKey {
  id: string;
  recipient: string;
  /** Hex. */
  nameKey: string;
}

export type FileClass = 'catalog' | 'documents' | 'indexes' | 'models' | 'logs';

export interface ManifestFile {
  /** Relative to the data root, forward slashes. */
  path: string;
  sha256: string;
  size: number;
  /** Blob name in data/: HMAC of the sha256, or of a pack's sha256 for a file stored in a pack. */
  blob: string;
  class: FileClass;
  /** A file stored in a pack (see pack.ts): where its bytes start in the pack's plaintext. */
  offset?: number;
}

export interface SnapshotManifest {
  format: 'lifeline-snapshot';
  version: 1;
  id: string;
  time: string;
  host: string;
  lifelineVersion: string;
  knowledgeBases: { name: string; documents: number; chunks: number; embedder: string }[];
  files: ManifestFile[];
  /** The files in `sha256sum` format, so a hand restore can be checked with `sha256sum -c`. */
  sha256sums: string;
  /**
   * The deep full-text check (DEEP_CATALOG_CHECKS: FTS5's index checked against the chunks' text)
   * and, with `structure`, the structural check (catalogIntegrityCheck) passed on the catalog with
   * this sha256 when the backup was made, under this SQLite version. A restore whose catalog has
   * that sha256, under the same SQLite, holds those very bytes and does not run them again.
   * (Anyone with the drive can write a manifest, but one who forges this could as well store a
   * catalog that passes: the checks prove the backup sound, not its origin.)
   */
  catalogCheck?: { sha256: string; sqlite: string; fulltext: 'ok'; structure?: 'ok' };
  /**
   * What the retention keeps of a snapshot past its daily window (pruneRepository), in
   * `<time>-<id>.retained.age`: its logs (the recovery reports) for `keepLogDays`, and, for good,
   * the original documents that no newer snapshot names (documents deleted from the data root since).
   * It cannot be restored as a data root; its files can be taken by hand.
   */
  retained?: true;
}

/** The file name suffix of a retained snapshot (see SnapshotManifest.retained). */
export const RETAINED_SUFFIX = '.retained.age';

export class Repository {
  private constructor(
    readonly dir: string,
    readonly info: RepoInfo,
    /** Null for a repository opened with a data root's write key (forWriting): it adds backups, reads none. */
    private readonly identityOrNull: string | null,
    private readonly nameKey: Buffer,
    /** A repository being created: its key file and marker, written while its first blobs are (see create). */
    private readonly keyWritten: Promise<void> = Promise.resolve(),
  ) {}

  /** Resolves once a repository being created has its key file and marker written, or has failed to (never rejects). */
  async settled(): Promise<void> {
    await this.keyWritten.catch(() => undefined);
  }

  static isRepository(dir: string): boolean {
    return fs.existsSync(path.join(dir, REPO_MARKER));
  }

  /** Creates a repository in an empty (or new) folder; returns once its key file and marker are durable. */
  static async init(dir: string, passphrase: string): Promise<Repository> {
    const repo = Repository.create(dir, passphrase);
    await repo.keyWritten;
    return repo;
  }

  /**
   * Creates a repository like init, but returns at once: the key file (one scrypt, on the thread
   * pool) and then the marker are written while the caller encrypts its first blobs (they need
   * only the recipient and the name key), and writeSnapshot waits for both, so no manifest is
   * written before the key is durable. Until the marker is written the folder is not a
   * repository: a first backup cut short before then leaves blobs without a key file (nothing in
   * them can be decrypted) or a key without a manifest (nothing names them), and the next init
   * clears that folder and starts afresh (see clearInterruptedInit).
   */
  static create(dir: string, passphrase: string): Repository {
    checkPassphrase(passphrase);
    const abs = path.resolve(dir);
    if (Repository.isRepository(abs)) throw new UserError('repo-exists', `${abs} already holds a Lifeline backup repository`);
    if (fs.existsSync(abs) && fs.readdirSync(abs).some((n) => n !== 'lost+found') && !clearInterruptedInit(abs)) {
      throw new UserError('repo-folder-not-empty', `${abs} is not empty; choose an empty folder (or a new one) for the repository`);
    }
    const { identity, recipient } = age.generateIdentity();
    const info: RepoInfo = { format: 'lifeline-backup-repository', version: 1, id: randomBytes(8).toString('hex'), created: new Date().toISOString(), recipient };
    try {
      ensureDir(abs);
      // First: while it stands, another init leaves this folder alone (see clearInterruptedInit).
      writeFileAtomic(path.join(abs, INIT_LOCK), JSON.stringify({ host: os.hostname(), pid: process.pid, started: info.created }) + '\n');
      ensureDir(path.join(abs, 'data'));
      ensureDir(path.join(abs, 'snapshots'));
      ensureDir(path.join(abs, 'keys'));
    } catch (err) {
      throw driveError(err, abs);
    }
    initsRunning.add(abs);
    const keyText = `# Lifeline backup repository ${info.id}: the age identity that decrypts data/ and snapshots/\n${identity}\n`;
    const keyWritten = (async () => {
      try {
        writeFileAtomic(path.join(abs, KEY_FILE), await age.encryptWithPassphrase(Buffer.from(keyText), passphrase));
        // The marker last: a folder is a repository only once its key is safely written.
        writeFileAtomic(path.join(abs, REPO_MARKER), JSON.stringify(info, null, 2) + '\n');
        fs.rmSync(path.join(abs, INIT_LOCK), { force: true });
      } catch (err) {
        throw driveError(err, abs);
      } finally {
        initsRunning.delete(abs);
      }
    })();
    keyWritten.catch(() => undefined); // awaited by init / writeSnapshot
    return new Repository(abs, info, identity, nameKeyOf(identity), keyWritten);
  }

  /** The plaintext marker of the repository in `dir` (its id and recipient); a UserError naming the folder when there is none. */
  static readMarker(dir: string): RepoInfo {
    const abs = path.resolve(dir);
    let info: RepoInfo;
    try {
      info = JSON.parse(fs.readFileSync(path.join(abs, REPO_MARKER), 'utf8')) as RepoInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('no-repo', `${abs} is not a Lifeline backup repository (no ${REPO_MARKER})`);
      if (err instanceof SyntaxError) throw new UserError('bad-repo', `${abs}/${REPO_MARKER} is not valid JSON: ${err.message}`);
      throw driveError(err, abs);
    }
    if (info?.format !== 'lifeline-backup-repository' || info.version !== 1) throw new UserError('bad-repo', `${abs}: unsupported repository format ${info?.format} ${info?.version}`);
    return info;
  }

  /**
   * Opens a repository for adding backups only, with the write key a data root remembered when it
   * last unlocked it (see writeKey): no passphrase and no scrypt, as `age -r` needs only the
   * recipient. Everything that reads the repository (snapshots, restore, verify, prune) then
   * needs the passphrase. The remembered recipient is the one used: a marker that names another
   * (rewritten by someone with the drive) or another repository id is refused.
   */
  static forWriting(dir: string, key: WriteKey): Repository {
    const abs = path.resolve(dir);
    const info = Repository.readMarker(abs);
    if (info.id !== key.id) throw new UserError('repo-unknown', `${abs} holds the repository ${info.id}, not ${key.id} that this data root backed up to before: the first backup to it needs its passphrase`);
    if (info.recipient !== key.recipient) throw markerAltered(abs, info, key.recipient);
    return new Repository(abs, info, null, Buffer.from(key.nameKey, 'hex'));
  }

  /** Opens a repository with its passphrase (one scrypt). A wrong passphrase is a UserError. */
  static async open(dir: string, passphrase: string): Promise<Repository> {
    const abs = path.resolve(dir);
    const info = Repository.readMarker(abs);
    let keyText: string;
    try {
      keyText = (await age.decryptWithPassphrase(fs.readFileSync(path.join(abs, KEY_FILE)), passphrase)).toString('utf8');
    } catch (err) {
      if (err instanceof age.AgeError && err.code === 'wrong-passphrase') throw new UserError('wrong-passphrase', `wrong passphrase for the repository in ${abs}`);
      if ((err as NodeJS.ErrnoException).code) throw driveError(err, abs);
      throw new UserError('bad-repo', `${abs}/${KEY_FILE} cannot be read: ${(err as Error).message}`);
    }
    const identity = keyText.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'));
    if (!identity) throw new UserError('bad-repo', `${abs}/${KEY_FILE} holds no age identity`);
    // The marker is plaintext that anyone with the drive can rewrite: a recipient there that is
    // not the key's own would have every later backup encrypted to someone else's key.
    const own = age.identityToRecipient(identity.trim());
    if (info.recipient !== own) throw markerAltered(abs, info, own);
    return new Repository(abs, info, identity.trim(), nameKeyOf(identity.trim()));
  }

  /** False for a repository opened with a write key (forWriting): it can add backups, not read them. */
  get canRead(): boolean {
    return this.identityOrNull !== null;
  }

  /** What a data root keeps to add backups later without the passphrase: public, plus the blob-name key (see forWriting). */
  writeKey(): WriteKey {
    return { id: this.info.id, recipient: this.info.recipient, nameKey: this.nameKey.toString('hex') };
  }

  /** Throws the UserError `passphrase-needed` for a repository opened with a write key. */
  requireRead(): void {
    void this.identity;
  }

  private get identity(): string {
    if (this.identityOrNull === null) {
      throw new UserError('passphrase-needed', `reading the repository in ${this.dir} needs its passphrase (this data root holds only the key that adds backups to it)`);
    }
    return this.identityOrNull;
  }

  /** The blob name for a content hash: keyed, so it does not reveal the hash. */
  blobName(sha256: string): string {
    return createHmac('sha256', this.nameKey).update(sha256).digest('hex');
  }

  blobPath(blob: string): string {
    return path.join(this.dir, 'data', blob.slice(0, 2), `${blob}.age`);
  }

  hasBlob(blob: string): boolean {
    return fs.existsSync(this.blobPath(blob));
  }

  /** A writer of new blobs for one backup (see {@link BlobWriter}). */
  blobWriter(options: BlobWriterOptions = {}): BlobWriter {
    return new BlobWriter(this, options);
  }

  /** Encrypts one file into data/ and makes it durable (a writer of one blob). */
  async putFile(src: string, blob: string, expected?: { sha256: string }): Promise<number> {
    const w = this.blobWriter();
    try {
      const n = await w.put(src, blob, expected);
      await w.finish();
      return n;
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  /**
   * Decrypts a blob into `dest` (via a temp file beside it, or straight into `dest` with
   * `inPlace` — for a staging folder that is trusted only once verified as a whole, and removed
   * if anything fails), checking its sha256 in the same pass. Not fsynced: the caller makes the
   * restored files durable with one `syncFilesystem()` before it relies on them (when no
   * filesystem flush is available, each file is fsynced here instead). `direct`: a large file is
   * written past the page cache (for a file nothing reads back soon; see offload's sink).
   * Returns the plaintext size.
   */
  async getFile(blob: string, sha256: string, dest: string, opts: { madeDirs?: Set<string>; inPlace?: boolean; direct?: boolean } = {}): Promise<number> {
    const out = opts.inPlace ? dest : `${dest}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    const src = this.blobPath(blob);
    const fsync = !canSyncfs();
    try {
      makeParent(dest, opts.madeDirs);
      let size = 0;
      const sealedSize = fs.statSync(src).size;
      if (sealedSize <= SMALL_FILE) {
        // Most blobs are small (documents): one read, decrypt and hash in memory, one write (the
        // smallest read with a blocking call: a thread-pool round trip costs more than the read;
        // creating the file stays in the pool, where it runs beside the decryption).
        const parts = age.decryptBufferParts(sealedSize <= TINY_FILE ? fs.readFileSync(src) : await fs.promises.readFile(src), this.identity);
        const h = createHash('sha256');
        for (const p of parts) {
          h.update(p);
          size += p.length;
        }
        if (h.digest('hex') !== sha256) throw new BlobDamagedError(blob, `its content does not match the recorded sha256`);
        await writeParts(out, parts, fsync, 0o644);
      } else {
        // A large file: the header is authenticated here, the payload opened, hashed and written
        // by a worker thread. If it does not open there, it is decrypted again here, which says
        // exactly why (truncated, tampered) — or, without workers, decrypted here to begin with.
        let r: { sha256: string; plaintextBytes: number } | null = null;
        if (offload.available()) {
          const { payloadKey, payloadOffset } = await age.openPayload(src, this.identity);
          r = await offload.openFile(src, payloadOffset, out, payloadKey, { fsync, mode: 0o644, size: sealedSize, direct: opts.direct });
        }
        if (r === null) {
          const h = createHash('sha256');
          const fh = await fs.promises.open(out, 'w', 0o644);
          try {
            const { plaintextBytes } = await age.decryptFile(src, this.identity, fh, { onPlaintext: (c) => h.update(c) });
            if (fsync) await fh.sync(); // no filesystem-wide flush available: each restored file on its own
            r = { sha256: h.digest('hex'), plaintextBytes };
          } finally {
            await fh.close();
          }
        }
        if (r.sha256 !== sha256) throw new BlobDamagedError(blob, `its content does not match the recorded sha256`);
        size = r.plaintextBytes;
      }
      if (out !== dest) await fs.promises.rename(out, dest);
      return size;
    } catch (err) {
      await fs.promises.rm(out, { force: true }).catch(() => undefined);
      if (err instanceof age.AgeError) throw new BlobDamagedError(blob, `cannot be decrypted (${err.code}): ${err.message}`);
      if (err instanceof BlobDamagedError) throw err;
      throw driveError(err, this.dir);
    }
  }

  /** Decrypts a blob and hashes it without keeping it (verify). */
  async checkBlob(blob: string, sha256: string): Promise<void> {
    const src = this.blobPath(blob);
    try {
      // A large blob is opened and hashed by a worker (into /dev/null); if it does not open
      // there, or is small, it is decrypted here, which also names any failure exactly.
      let actual: string | null = null;
      const size = fs.statSync(src).size;
      if (size > SMALL_FILE && offload.available() && fs.existsSync('/dev/null')) {
        const { payloadKey, payloadOffset } = await age.openPayload(src, this.identity);
        actual = (await offload.openFile(src, payloadOffset, '/dev/null', payloadKey, { fsync: false, mode: 0o644, size }))?.sha256 ?? null;
      }
      if (actual === null) {
        const h = createHash('sha256');
        await age.decryptFile(src, this.identity, (c: Buffer) => void h.update(c));
        actual = h.digest('hex');
      }
      if (actual !== sha256) throw new BlobDamagedError(blob, `its content does not match the recorded sha256`);
    } catch (err) {
      if (err instanceof age.AgeError) throw new BlobDamagedError(blob, `cannot be decrypted (${err.code}): ${err.message}`);
      if (err instanceof BlobDamagedError) throw err;
      throw driveError(err, this.dir);
    }
  }

  /** A pack's plaintext (a tar archive, see pack.ts), decrypted in memory. */
  private async readPack(blob: string): Promise<Buffer> {
    let sealed: Buffer;
    try {
      sealed = await fs.promises.readFile(this.blobPath(blob));
    } catch (err) {
      throw driveError(err, this.dir);
    }
    try {
      return age.decryptBuffer(sealed, this.identity);
    } catch (err) {
      if (err instanceof age.AgeError) throw new BlobDamagedError(blob, `cannot be decrypted (${err.code}): ${err.message}`);
      throw err;
    }
  }

  /**
   * Restores files stored in one pack: the pack is decrypted once, each file's bytes checked
   * against its sha256 and written to its `dest` (straight under its name: for a staging folder,
   * as getFile with `inPlace`). Not fsynced, as getFile. Throws BlobDamagedError naming the pack.
   */
  async getPacked(blob: string, files: readonly { sha256: string; offset: number; size: number; dest: string }[], opts: { madeDirs?: Set<string> } = {}): Promise<void> {
    const pack = await this.readPack(blob);
    const fsync = !canSyncfs();
    try {
      await forEachLimit(files, CONCURRENCY, async (f) => {
        const bytes = checkedMember(pack, blob, f);
        makeParent(f.dest, opts.madeDirs);
        await writeParts(f.dest, [bytes], fsync, 0o644);
      });
    } catch (err) {
      throw driveError(err, this.dir);
    }
  }

  /** Decrypts a pack and checks the files the manifests place in it (verify); throws BlobDamagedError. */
  async checkPack(blob: string, files: readonly { sha256: string; offset: number; size: number }[]): Promise<void> {
    const pack = await this.readPack(blob);
    for (const f of files) checkedMember(pack, blob, f);
  }

  /** The age recipient blobs are encrypted to (for the writer). */
  get recipient(): string {
    return this.info.recipient;
  }

  /** Writes the manifest last: the caller has made every blob it names durable (BlobWriter.finish). */
  async writeSnapshot(manifest: SnapshotManifest): Promise<string> {
    await this.keyWritten; // a new repository: its key durable before its first manifest
    return this.writeManifest(manifest);
  }

  /** The file name in snapshots/ of a manifest: its time and id (and the suffix of a retained one). */
  manifestName(manifest: SnapshotManifest): string {
    return `${manifest.time.replace(/[:.]/g, '-')}-${manifest.id}${manifest.retained ? RETAINED_SUFFIX : '.age'}`;
  }

  /** Writes a manifest of a repository whose key is durable (writeSnapshot; a prune's logs-only manifests), by atomic rename. */
  writeManifest(manifest: SnapshotManifest): string {
    checkManifest(manifest);
    const name = this.manifestName(manifest);
    const sealed = age.encryptBufferToRecipient(Buffer.from(JSON.stringify(manifest)), this.info.recipient);
    try {
      writeFileAtomic(path.join(this.dir, 'snapshots', name), sealed);
    } catch (err) {
      throw driveError(err, this.dir);
    }
    return name;
  }

  /** Snapshot files, oldest first. */
  snapshotFiles(): string[] {
    try {
      return fs
        .readdirSync(path.join(this.dir, 'snapshots'))
        .filter((n) => n.endsWith('.age') && !n.startsWith('.'))
        .sort();
    } catch (err) {
      throw driveError(err, this.dir);
    }
  }

  readSnapshot(file: string): SnapshotManifest {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(path.join(this.dir, 'snapshots', file));
    } catch (err) {
      throw driveError(err, this.dir);
    }
    const identity = this.identity; // without it, the passphrase is needed (not a damaged snapshot)
    try {
      const m = JSON.parse(age.decryptBuffer(raw, identity).toString('utf8')) as SnapshotManifest;
      checkManifest(m);
      return m;
    } catch (err) {
      throw new UserError('snapshot-damaged', `snapshot ${file} in ${this.dir} is damaged: ${(err as Error).message}`);
    }
  }

  /** Finds a snapshot by id (or file name); the newest when id is absent. */
  findSnapshot(id?: string): { file: string; manifest: SnapshotManifest } {
    const all = this.snapshotFiles();
    const files = all.filter((f) => !f.endsWith(RETAINED_SUFFIX));
    if (files.length === 0) throw new UserError('no-snapshots', `the repository in ${this.dir} has no snapshots yet${all.length ? ' (only the logs that the retention keeps)' : ''}`);
    const file = id ? all.find((f) => f === id || f.endsWith(`-${id}.age`) || f.endsWith(`-${id}${RETAINED_SUFFIX}`) || f.replace(/\.age$/, '') === id) : files[files.length - 1];
    if (!file) throw new UserError('no-such-snapshot', `no snapshot ${id} in ${this.dir}; see lifeline backups list`);
    const manifest = file.endsWith(RETAINED_SUFFIX) ? null : this.readSnapshot(file);
    if (!manifest || manifest.retained) {
      throw new UserError('retained-snapshot', `snapshot ${file} in ${this.dir} holds only what the retention keeps of an older snapshot (its logs, and original documents no newer snapshot names), and cannot be restored as a data root: choose a full snapshot (lifeline backups list), or take its files by hand (README "Repository format")`);
    }
    return { file, manifest };
  }

  removeSnapshot(file: string): void {
    fs.rmSync(path.join(this.dir, 'snapshots', file), { force: true });
    fsyncDir(path.join(this.dir, 'snapshots'));
  }

  /** Every blob file in data/ (names without .age). */
  allBlobs(): string[] {
    const out: string[] = [];
    const data = path.join(this.dir, 'data');
    for (const d of fs.existsSync(data) ? fs.readdirSync(data) : []) {
      for (const f of fs.readdirSync(path.join(data, d))) if (f.endsWith('.age') && !f.startsWith('.')) out.push(f.slice(0, -4));
    }
    return out;
  }

  /**
   * Removes temp files of blob writes that never finished (a backup killed, a drive pulled), once
   * they are older than `minAgeMs` — so never those of a backup still running, even on another
   * machine writing to the same share. Returns how many were removed.
   */
  removeStaleTemps(minAgeMs = 12 * 3_600_000, now = Date.now()): number {
    let n = 0;
    const data = path.join(this.dir, 'data');
    for (const d of fs.existsSync(data) ? fs.readdirSync(data) : []) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(data, d));
      } catch {
        continue;
      }
      for (const f of names) {
        if (!f.startsWith('.') || !f.includes('.tmp-')) continue;
        const p = path.join(data, d, f);
        try {
          if (now - fs.statSync(p).mtimeMs < minAgeMs) continue;
          fs.rmSync(p, { force: true });
          n++;
        } catch {
          // gone already
        }
      }
    }
    return n;
  }

  removeBlob(blob: string): void {
    fs.rmSync(this.blobPath(blob), { force: true });
  }
}

/**
 * A manifest is trusted only in its exact shape: anyone holding the drive can write one (the
 * recipient is public), so an id or path that could leave the data root is refused.
 */
function checkManifest(m: SnapshotManifest): void {
  const str = (v: unknown) => typeof v === 'string';
  if (!m || m.format !== 'lifeline-snapshot') throw new Error('not a Lifeline snapshot manifest');
  if (!str(m.id) || !/^[0-9a-f]{4,32}$/.test(m.id)) throw new Error('the snapshot id is not valid');
  if (!Array.isArray(m.files) || !Array.isArray(m.knowledgeBases) || !str(m.time) || !str(m.sha256sums)) throw new Error('the manifest is missing its file list');
  for (const f of m.files) {
    const ok =
      f !== null &&
      typeof f === 'object' &&
      str(f.path) &&
      /^[0-9a-f]{64}$/.test(String(f.sha256)) &&
      /^[0-9a-f]{64}$/.test(String(f.blob)) &&
      Number.isSafeInteger(f.size) &&
      f.size >= 0 &&
      (f.offset === undefined || (Number.isSafeInteger(f.offset) && f.offset >= 0)) &&
      !path.isAbsolute(f.path) &&
      !f.path.split(/[\\/]/).includes('..') &&
      !/[\x00-\x1f]/.test(f.path);
    if (!ok) throw new Error(`the manifest lists an invalid file entry (${JSON.stringify(f).slice(0, 80)})`);
  }
}

/** The bytes of one file in a decrypted pack, checked against its sha256; BlobDamagedError naming the pack otherwise. */
function checkedMember(pack: Buffer, blob: string, f: { sha256: string; offset: number; size: number }): Buffer {
  const bytes = packMember(pack, f.sha256, f.offset, f.size);
  if (bytes === null || createHash('sha256').update(bytes).digest('hex') !== f.sha256) throw new BlobDamagedError(blob, `does not hold ${f.sha256.slice(0, 12)}… where the manifest says`);
  return bytes;
}

export class BlobDamagedError extends Error {
  constructor(
    readonly blob: string,
    reason: string,
  ) {
    super(`blob ${blob.slice(0, 16)}… ${reason}`);
    this.name = 'BlobDamagedError';
  }
}

/** Errors of the drive itself, in the operator's words (full, pulled out, read-only, failing). */
export function driveError(err: unknown, where: string): Error {
  if (err instanceof UserError || err instanceof BlobDamagedError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOSPC':
      return new UserError('disk-full', `${where}: the disk is full (ENOSPC). Nothing was changed; free space or use a bigger drive`);
    case 'EIO':
    case 'ENXIO':
    case 'ENODEV':
      return new UserError('drive-gone', `${where}: the drive stopped answering (${e.code}) — was it pulled out? Plug it back in and try again`);
    case 'ENOENT':
      return new UserError('drive-gone', `${where}: a file disappeared while it was being read (${e.path ?? ''}) — was the drive pulled out?`);
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return new UserError('drive-readonly', `${where}: ${describeErrno(e)}`);
    default:
      return e instanceof Error ? e : new Error(String(err));
  }
}

/** Files up to this size are encrypted in memory (one read, one write). */
const SMALL_FILE = 4 << 20;
/** ... and up to this size read with a blocking call. */
const TINY_FILE = 256 << 10;
/** New blobs are published (renamed into place) in batches of about this much data or this many files. */
const BATCH_BYTES = 256 << 20;
const BATCH_FILES = 1000;

export interface BlobWriterOptions {
  /**
   * Makes everything written to the repository's filesystem so far durable (`last`: the flush
   * before the manifest). Default: syncfs (`sync -f`); without it, each file and folder is fsynced.
   */
  flush?: (dir: string, last: boolean) => Promise<void> | void;
}

/**
 * Writes the new blobs of one backup, durably and in DESIGN's order, with few flushes:
 * 1. each blob is encrypted into a temp file in its data/xx folder, its plaintext hashed in the
 *    same pass and checked against the sha256 it is stored under (a damaged source is refused,
 *    never stored under a good name);
 * 2. a batch of temp files is made durable with one flush of the drive's filesystem (syncfs;
 *    where that is unavailable, each file was fsynced as it was written), and only then renamed
 *    to its blob name — so a blob name never points at data the drive might not hold, and a
 *    later backup that finds the name can trust it;
 * 3. `finish()` publishes the last batch and flushes once more, so every name is durable before
 *    the manifest that refers to them is written.
 * Puts may run concurrently. `abort()` removes the temp files not yet published.
 */
export class BlobWriter {
  private pending: { tmp: string; dest: string }[] = [];
  private pendingBytes = 0;
  private publishing: Promise<void> = Promise.resolve();
  private readonly created = new Set<string>();
  private readonly touched = new Set<string>();
  private failed: unknown = null;
  /** Puts under way (settled whatever their outcome), which abort waits for. */
  private readonly inflight = new Set<Promise<void>>();

  private readonly flush: ((dir: string, last: boolean) => Promise<void> | void) | null;

  constructor(
    private readonly repo: Repository,
    options: BlobWriterOptions = {},
  ) {
    // The last flush is a synchronous `sync -f` like every other one this module makes (one
    // observable point before the manifest); the ones between batches run beside the encryption.
    this.flush = options.flush ?? (canSyncfs() ? (dir, last) => (last ? syncFilesystem(dir) : syncFilesystemAsync(dir)) : null);
  }

  /** True when `put` hands a file of this size to a worker thread (callers need not queue it behind their own work). */
  offloads(size: number): boolean {
    return size > SMALL_FILE && offload.available();
  }

  /** Encrypts `src` as blob `blob` (not yet in the repository); returns the bytes written. */
  put(src: string, blob: string, expected?: { sha256: string }): Promise<number> {
    return this.track(this.putOne(src, blob, expected));
  }

  private putOne(src: string, blob: string, expected?: { sha256: string }): Promise<number> {
    return this.intoTemp(blob, async (tmp, fsync) => {
      const h = createHash('sha256');
      const size = fs.statSync(src).size;
      if (size <= SMALL_FILE) {
        // A small file: one read, one writev, no stream machinery.
        const plain = await readSmallFile(src, size);
        h.update(plain);
        if (expected && h.digest('hex') !== expected.sha256) throw sourceDamaged(src);
        return writeEncrypted(tmp, plain, this.repo.recipient, fsync);
      }
      if (offload.available()) {
        // A large file: read, sealed and written by a worker thread (the header is made here),
        // while this thread goes on with the small ones; hashed in the same pass unless it was
        // hashed moments ago (no `expected`).
        const { preamble, payloadKey } = age.prepareEncryption(this.repo.recipient);
        // Written past the page cache (see offload's sink): nothing reads a blob back during a backup.
        const r = await offload.sealFile(src, tmp, preamble, payloadKey, { fsync, mode: 0o600, hash: expected !== undefined, size, direct: true });
        if (expected && r.sha256 !== expected.sha256) throw sourceDamaged(src);
        return r.ciphertextBytes;
      }
      // A large file, without workers: encrypted here, hashed in the same pass.
      const written = (await age.encryptFileToRecipient(src, this.repo.recipient, tmp, { fsync, onPlaintext: (c) => h.update(c) })).ciphertextBytes;
      if (expected && h.digest('hex') !== expected.sha256) throw sourceDamaged(src);
      return written;
    });
  }

  /**
   * Writes blob `blob` through a temp file beside its final name: `write` fills the temp file
   * (fsynced when there is no filesystem flush) and returns the bytes written; the file then joins
   * the batch to publish. Whatever fails, the temp file is removed.
   */
  private async intoTemp(blob: string, write: (tmp: string, fsync: boolean) => Promise<number>): Promise<number> {
    if (this.failed) throw this.failed;
    const dest = this.repo.blobPath(blob);
    const dir = path.dirname(dest);
    const tmp = path.join(dir, `.${blob}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      if (!fs.existsSync(dir)) {
        mkdirP(dir);
        this.created.add(dir);
      }
      const written = await write(tmp, this.flush === null);
      // Aborted while this file was being written: its temp file goes with the others.
      if (this.failed) throw this.failed;
      this.pending.push({ tmp, dest });
      this.pendingBytes += written;
      if (this.pendingBytes >= BATCH_BYTES || this.pending.length >= BATCH_FILES) this.startPublish();
      return written;
    } catch (err) {
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      throw driveError(err, this.repo.dir);
    }
  }

  /** Encrypts plaintext held in memory (a pack) as blob `blob` (not yet in the repository); returns the bytes written. */
  putPlain(plain: readonly Buffer[], blob: string): Promise<number> {
    return this.track(this.putPlainOne(plain, blob));
  }

  /** Keeps `p` among the puts abort waits for until it settles. */
  private track<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return p;
  }

  private putPlainOne(plain: readonly Buffer[], blob: string): Promise<number> {
    return this.intoTemp(blob, (tmp, fsync) => writeEncrypted(tmp, plain, this.repo.recipient, fsync));
  }

  /** Flushes and renames the current batch, in the background (one batch at a time). */
  private startPublish(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.publishing = this.publishing.then(async () => {
      if (this.failed) return;
      try {
        if (this.flush) await this.flush(this.repo.dir, false);
        for (const { tmp, dest } of batch) {
          await fs.promises.rename(tmp, dest);
          this.touched.add(path.dirname(dest));
        }
      } catch (err) {
        this.failed = driveError(err, this.repo.dir);
        for (const { tmp } of batch) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      }
    });
  }

  /** Publishes what is left and makes every blob name durable: call before writing the manifest. */
  async finish(): Promise<void> {
    this.startPublish();
    await this.publishing;
    if (this.failed) throw this.failed;
    if (this.touched.size === 0 && this.created.size === 0) return;
    try {
      if (this.flush) await this.flush(this.repo.dir, true);
      else {
        // Without a filesystem flush: the new folders' parents, then every folder that got names.
        const dirs = new Set<string>();
        for (const d of this.created) dirs.add(path.dirname(d));
        for (const d of this.touched) dirs.add(d);
        for (const d of dirs) fsyncDir(d);
      }
    } catch (err) {
      throw driveError(err, this.repo.dir);
    }
  }

  /** Removes the temp files not yet published (after a failure or a cancel). */
  async abort(): Promise<void> {
    this.failed ??= new Error('aborted');
    await Promise.all(this.inflight);
    await this.publishing.catch(() => undefined);
    for (const { tmp } of this.pending) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    this.pending = [];
  }
}

export function sourceDamaged(src: string): UserError {
  return new UserError('source-damaged', `${src} does not match the sha256 it is recorded with (damaged, or changed during the backup); nothing damaged was stored. Run lifeline verify, repair or restore it, then back up again`);
}

/**
 * A small file's bytes; the smallest read with a blocking call (a thread-pool round trip costs
 * more than the read), larger ones on the pool.
 */
export async function readSmallFile(file: string, size: number): Promise<Buffer> {
  return size <= TINY_FILE ? fs.readFileSync(file) : await fs.promises.readFile(file);
}

/** mkdir -p; durability comes from the flush that follows (or an explicit fsync). */
function mkdirP(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

/** mkdir -p of `file`'s folder, once per folder among the ones `made` (when given) remembers. */
function makeParent(file: string, made?: Set<string>): void {
  const dir = path.dirname(file);
  if (made?.has(dir)) return;
  mkdirP(dir);
  made?.add(dir);
}

/** Encrypts `plain` (held in memory) to `recipient` into the new file `file`; returns the bytes written. */
async function writeEncrypted(file: string, plain: Buffer | readonly Buffer[], recipient: string, fsync: boolean): Promise<number> {
  const parts = age.encryptBufferParts(plain, recipient);
  await writeParts(file, parts, fsync, 0o600);
  return parts.reduce((n, p) => n + p.length, 0);
}

/** Writes `parts` to a new file with one writev (looping on short writes), optionally fsynced. */
async function writeParts(file: string, parts: Buffer[], fsync: boolean, mode: number): Promise<void> {
  const fh = await fs.promises.open(file, 'w', mode);
  try {
    let list = parts.filter((p) => p.length > 0);
    while (list.length > 0) {
      let { bytesWritten: n } = await fh.writev(list);
      if (n === 0) throw new Error(`${file}: write made no progress`);
      const rest: Buffer[] = [];
      for (const b of list) {
        if (n >= b.length) n -= b.length;
        else {
          rest.push(n > 0 ? b.subarray(n) : b);
          n = 0;
        }
      }
      list = rest;
    }
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Files backed up or restored at a time: enough to keep the disk busy while one is encrypted. */
export const CONCURRENCY = 4;

/** The same, blocking, for small files: one write of the joined parts. */
function writePartsSync(file: string, parts: Buffer[], fsync: boolean, mode: number): void {
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  const fd = fs.openSync(file, 'w', mode);
  try {
    let off = 0;
    while (off < data.length) {
      const n = fs.writeSync(fd, data, off, data.length - off);
      if (n === 0) throw new Error(`${file}: write made no progress`);
      off += n;
    }
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs `fn` over `items` with at most `limit` at a time; the first failure stops new starts and is thrown once all running ones settle. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw (failure as { err: unknown }).err;
}

let syncfsAvailable: boolean | null = null;

/** `sync -f` (coreutils) flushes one whole filesystem: syncfs(2). */
function canSyncfs(): boolean {
  if (syncfsAvailable === null) syncfsAvailable = spawnSync('sync', ['-f', os.tmpdir()]).status === 0;
  return syncfsAvailable;
}

/** The same flush without blocking the event loop (encryption goes on meanwhile). */
function syncFilesystemAsync(dir: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('sync', ['-f', dir], (err, _out, stderr) =>
      err ? reject(new UserError('drive-gone', `${dir}: could not flush the drive (sync -f failed: ${String(stderr).trim() || err.message}) — was it pulled out?`)) : resolve(),
    ),
  );
}

/**
 * Starts writing out what is dirty on the filesystem holding `dir` without waiting for it (a
 * later syncFilesystem() then has little left to do); resolves when done, never rejects.
 */
export function startFlush(dir: string): Promise<void> {
  return canSyncfs() ? syncFilesystemAsync(dir).catch(() => undefined) : Promise.resolve();
}

/** Flushes the filesystem holding `dir` (all files written there become durable). */
export function syncFilesystem(dir: string): void {
  if (canSyncfs()) {
    const r = spawnSync('sync', ['-f', dir]);
    if (r.status !== 0) throw new UserError('drive-gone', `${dir}: could not flush the drive (sync -f failed: ${String(r.stderr).trim()}) — was it pulled out?`);
    return;
  }
  fsyncDir(dir);
}

function checkPassphrase(p: unknown): asserts p is string {
  if (typeof p !== 'string' || p.length < 8) throw new UserError('weak-passphrase', 'the passphrase must have at least 8 characters');
}

/** Present while a repository is being created (removed once its marker is written). */
const INIT_LOCK = '.lifeline-init.json';
/** Folders this process is creating a repository in (their key not yet written or failed). */
const initsRunning = new Set<string>();

/**
 * Clears a folder left by a repository creation cut short (a first backup interrupted before its
 * key file and marker were written) and returns true; returns false, touching nothing, for any
 * other folder. Such a folder has no marker and holds only what create and the blob writer make:
 * data/<ab>/ blobs and temp files, keys/ (the key file at most, no manifest names anything it
 * opens), snapshots/ without a manifest, and the init lock. Without the key nothing in it can be
 * decrypted, so nothing of value is lost. While another creation may still be running there —
 * its lock names a live process on this machine, or another machine and is under an hour old —
 * it is left alone (the init fails with repo-init-running).
 */
function clearInterruptedInit(abs: string, now = Date.now()): boolean {
  const top = fs.readdirSync(abs).filter((n) => n !== 'lost+found');
  const names = (d: string) => fs.readdirSync(path.join(abs, d));
  const dirOk = (d: string) => fs.lstatSync(path.join(abs, d)).isDirectory();
  if (!top.every((n) => (n === 'data' || n === 'snapshots' || n === 'keys' ? dirOk(n) : n === INIT_LOCK || (n.startsWith(`.${INIT_LOCK}`) && n.includes('.tmp'))))) return false;
  if (top.includes('snapshots') && names('snapshots').some((n) => !n.startsWith('.'))) return false;
  if (top.includes('keys') && names('keys').some((n) => n !== 'repo-key.age' && !n.startsWith('.repo-key.age'))) return false;
  if (top.includes('data')) {
    for (const d of names('data')) {
      if (!/^[0-9a-f]{2}$/.test(d) || !dirOk(`data/${d}`)) return false;
      if (names(`data/${d}`).some((f) => !/^[0-9a-f]{64}\.age$/.test(f) && !/^\.[0-9a-f]{64}\.tmp-/.test(f))) return false;
    }
  }
  if (top.includes(INIT_LOCK)) {
    let lock: { host?: string; pid?: number } = {};
    try {
      lock = JSON.parse(fs.readFileSync(path.join(abs, INIT_LOCK), 'utf8')) as typeof lock;
    } catch {
      // unreadable: judged by its age alone
    }
    const ageMs = now - fs.statSync(path.join(abs, INIT_LOCK)).mtimeMs;
    const running =
      lock.host === os.hostname() && typeof lock.pid === 'number'
        ? lock.pid === process.pid
          ? initsRunning.has(abs)
          : isAlive(lock.pid)
        : ageMs < 3_600_000;
    if (running) {
      const here = lock.host === os.hostname();
      // Another machine's process cannot be looked at from here: after an hour its lock is taken for a creation cut short.
      const after = here ? '' : `; if that backup was cut short, the next backup here clears the folder after ${new Date(fs.statSync(path.join(abs, INIT_LOCK)).mtimeMs + 3_600_000).toISOString()} — or delete ${path.join(abs, INIT_LOCK)} once you are sure no backup is writing there`;
      throw new UserError('repo-init-running', `${abs}: a backup is creating a repository there right now (${lock.host ?? 'unknown host'}, process ${lock.pid ?? '?'}); wait for it, or choose another folder${after}`);
    }
  }
  for (const n of top) fs.rmSync(path.join(abs, n), { recursive: true, force: true });
  fsyncDir(abs);
  return true;
}

/** A marker whose recipient is not the repository's own (`own`: its key's, or the one a data root remembered). */
function markerAltered(abs: string, info: RepoInfo, own: string): UserError {
  return new UserError('repo-marker-altered', `${abs}/${REPO_MARKER} names the recipient ${String(info.recipient).slice(0, 16)}…, but the repository's own is ${own.slice(0, 16)}…: the marker was altered; nothing was written. Restore its "recipient" to ${own}, or back up to a new repository`);
}

function nameKeyOf(identity: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(identity), Buffer.alloc(0), Buffer.from('lifeline blob names v1'), 32));
}

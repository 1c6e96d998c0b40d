// Checks an Office Open XML package (DOCX, XLSX: a ZIP archive) before a library unpacks it:
// it must be a well-formed ZIP whose entries are all listed in the central directory, and it
// must not unpack to more than MAX_UNZIPPED_BYTES or at a ratio above MAX_RATIO (a ZIP bomb).
// The declared sizes are checked first (cheap); then every entry is actually inflated, without
// keeping the output, and stopped as soon as it outgrows its declared size, so headers that
// lie about the sizes cannot get a bomb past the check.
import zlib from 'node:zlib';
import { LoadError } from './types.js';

export const MAX_UNZIPPED_BYTES = 200 * 1024 * 1024;
/** Highest uncompressed/compressed ratio of an entry (text XML packs 5–30×, zeros ~1000×). */
export const MAX_RATIO = 200;
/**
 * Entries unpacking to less than this are never refused for their ratio: inflating them is
 * cheap, and real documents with much repetition (long tables of identical cells) can pack
 * more than 200× at such sizes.
 */
export const RATIO_FLOOR = 16 * 1024 * 1024;
const MAX_ENTRIES = 20_000;

export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/** An OLE compound file: an encrypted Office document, or a pre-2007 .doc/.xls. */
export function isOleFile(bytes: Uint8Array): boolean {
  return OLE_MAGIC.every((b, i) => bytes[i] === b);
}

/** A library's error message, made fit for a one-line reason: first line, at most 200 chars. */
export function libraryMessage(err: unknown): string {
  const raw = String((err as { message?: unknown } | null)?.message ?? err);
  const line = raw.split('\n').find((l) => l.trim()) ?? raw;
  const clean = line.replace(/\s+/g, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean || 'unknown error';
}

/**
 * Reads and checks the ZIP structure; throws a LoadError naming `what` ("Word document",
 * "Excel workbook") for anything that is not a sound, reasonably sized package.
 */
export async function checkZipPackage(file: string, bytes: Uint8Array, what: string): Promise<ZipEntry[]> {
  const { entries, cdOffset } = readCentralDirectory(file, bytes, what);
  let total = 0;
  for (const e of entries) {
    if (e.flags & 1) throw new LoadError(file, `the ${what} is an encrypted ZIP archive; remove the password and try again`);
    if (e.method !== 0 && e.method !== 8) throw new LoadError(file, `the ${what} uses an unsupported ZIP compression method (${e.method}); save it again from Office`);
    total += e.uncompressedSize;
    if (total > MAX_UNZIPPED_BYTES) throw tooBig(file, what, total);
    if (e.uncompressedSize > RATIO_FLOOR && e.uncompressedSize > MAX_RATIO * Math.max(e.compressedSize, 1)) {
      throw new LoadError(file, `"${e.name}" in the ${what} expands ${Math.round(e.uncompressedSize / Math.max(e.compressedSize, 1))} times (more than ${MAX_RATIO}×); refusing a possible ZIP bomb`);
    }
  }
  checkLocalHeaders(file, bytes, entries, cdOffset, what);
  // Inflate for real, bounded by the declared sizes already checked above.
  for (const e of entries) {
    const start = dataStart(bytes, e);
    const data = bytes.subarray(start, start + e.compressedSize);
    if (e.method === 0) continue; // stored: the size was checked against the local header
    const actual = await inflatedSize(data, e.uncompressedSize);
    if (actual.corrupt) throw new LoadError(file, `the ${what} is damaged: "${e.name}" cannot be decompressed`);
    if (actual.bytes > e.uncompressedSize) {
      throw new LoadError(file, `"${e.name}" in the ${what} unpacks to more than its recorded size (${e.uncompressedSize} bytes); refusing a possible ZIP bomb`);
    }
  }
  return entries;
}

function tooBig(file: string, what: string, total: number): LoadError {
  const mb = (n: number) => Math.round(n / 1024 / 1024);
  return new LoadError(file, `the ${what} unpacks to ${total > 2 ** 40 ? 'more than 1 TB' : `${mb(total)} MB`}, more than the ${mb(MAX_UNZIPPED_BYTES)} MB limit (a ZIP bomb?)`);
}

function readCentralDirectory(file: string, bytes: Uint8Array, what: string): { entries: ZipEntry[]; cdOffset: number } {
  const notZip = () => new LoadError(file, `not a valid ${what}: the file is not a ZIP package (damaged, or another format renamed)`);
  const damaged = (detail: string) => new LoadError(file, `the ${what} is damaged: ${detail}`);
  if (bytes.length < 22) throw notZip();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory record: within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bytes[0] === 0x50 && bytes[1] === 0x4b ? damaged('the ZIP archive is truncated (no central directory)') : notZip();
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== 0x07064b50) throw damaged('the ZIP64 locator is missing');
    const rec = safeNumber(view.getBigUint64(loc + 8, true));
    if (rec + 56 > bytes.length || view.getUint32(rec, true) !== 0x06064b50) throw damaged('the ZIP64 end record is missing');
    count = safeNumber(view.getBigUint64(rec + 32, true));
    cdSize = safeNumber(view.getBigUint64(rec + 40, true));
    cdOffset = safeNumber(view.getBigUint64(rec + 48, true));
  }
  if (count > MAX_ENTRIES) throw new LoadError(file, `the ${what} has ${count} entries, more than the ${MAX_ENTRIES} allowed`);
  if (cdOffset + cdSize > bytes.length) throw damaged('the ZIP archive is truncated (central directory out of range)');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  const utf8 = new TextDecoder('utf-8');
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50) throw damaged('the ZIP central directory is corrupt');
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > bytes.length) throw damaged('the ZIP central directory is corrupt');
    const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      // ZIP64 extended information: only the fields that overflowed, in this order.
      let x = p + 46 + nameLen;
      const end = x + extraLen;
      while (x + 4 <= end) {
        const id = view.getUint16(x, true);
        const size = view.getUint16(x + 2, true);
        if (id === 0x0001) {
          let f = x + 4;
          const next = () => {
            if (f + 8 > x + 4 + size) throw damaged('a ZIP64 field is truncated');
            const v = safeNumber(view.getBigUint64(f, true));
            f += 8;
            return v;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localOffset === 0xffffffff) localOffset = next();
          break;
        }
        x += 4 + size;
      }
    }
    entries.push({ name, flags, method, compressedSize, uncompressedSize, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { entries, cdOffset };
}

/** Sizes beyond 2^53 are absurd for a document; keep them as a huge number so limits refuse them. */
function safeNumber(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

function dataStart(bytes: Uint8Array, e: ZipEntry): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
}

/**
 * Every entry's local header must agree with the central directory, and the entries must tile
 * the archive up to the central directory: streaming unzippers read the local headers, so
 * bytes outside the directory could otherwise hide an entry the size checks never saw.
 */
function checkLocalHeaders(file: string, bytes: Uint8Array, entries: readonly ZipEntry[], cdOffset: number, what: string): void {
  const damaged = (detail: string) => new LoadError(file, `the ${what} is damaged or tampered with: ${detail}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sorted = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  if (sorted.length && sorted[0]!.localOffset !== 0) throw damaged('unlisted data at the start of the archive');
  sorted.forEach((e, i) => {
    const o = e.localOffset;
    if (o + 30 > bytes.length || view.getUint32(o, true) !== 0x04034b50) throw damaged(`no local header for "${e.name}"`);
    const localFlags = view.getUint16(o + 6, true);
    if (view.getUint16(o + 8, true) !== e.method) throw damaged(`"${e.name}" has two different compression methods`);
    if (!(localFlags & 8)) {
      const lc = view.getUint32(o + 18, true);
      const lu = view.getUint32(o + 22, true);
      // 0xFFFFFFFF: the real sizes are in the local ZIP64 extra field; the central ones rule.
      if ((lc !== 0xffffffff && lc !== e.compressedSize) || (lu !== 0xffffffff && lu !== e.uncompressedSize)) throw damaged(`"${e.name}" has two different recorded sizes`);
    }
    if (e.method === 0 && e.compressedSize !== e.uncompressedSize) throw damaged(`"${e.name}" is stored with inconsistent sizes`);
    const end = dataStart(bytes, e) + e.compressedSize;
    const next = sorted[i + 1]?.localOffset ?? cdOffset;
    // A data descriptor (flag 8) follows the data: optional signature, CRC, 4- or 8-byte sizes.
    const gapOk = localFlags & 8 ? [12, 16, 20, 24].includes(next - end) : next === end;
    if (!gapOk) throw damaged(next < end ? `"${e.name}" overlaps the next entry` : `unlisted data after "${e.name}"`);
  });
}

/**
 * Inflates DEFLATE data (raw, or with the zlib wrapper of PDF streams), discarding the output, and
 * says how many bytes came out: stops as soon as that is more than `limit`. Memory stays at one
 * chunk, whatever the data. `corrupt`: the data ended in an error (bytes = what came out before).
 */
export function inflatedSize(data: Uint8Array, limit: number, format: 'raw' | 'zlib' = 'raw'): Promise<{ bytes: number; corrupt: boolean }> {
  return new Promise((resolve) => {
    const z = format === 'raw' ? zlib.createInflateRaw({ chunkSize: 256 * 1024 }) : zlib.createInflate({ chunkSize: 256 * 1024 });
    let n = 0;
    let done = false;
    const finish = (corrupt: boolean) => {
      if (done) return;
      done = true;
      z.removeAllListeners('data');
      z.destroy();
      resolve({ bytes: n, corrupt });
    };
    z.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (n > limit) finish(false);
    });
    z.on('end', () => finish(false));
    z.on('error', () => finish(true));
    z.end(data);
  });
}

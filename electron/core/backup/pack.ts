// Packs: many small files (the original documents) stored as one blob, so a backup of thousands
// of documents writes a few files to the drive instead of thousands (restic packs its blobs for
// the same reason: creating a file costs far more on a USB drive than writing its bytes).
//
// A pack's plaintext is a POSIX ustar archive, so a person can open it with the standard tools:
//   age -d -i repo.key data/ab/<pack>.age | tar -x
// Each member is named by the sha256 of its content; the snapshot manifest lists, for every file
// in a pack, the pack's blob name and the offset of the file's bytes in that archive.
import { createHash } from 'node:crypto';

const BLOCK = 512;
/** A pack is closed once it holds this much. */
export const PACK_BYTES = 16 << 20;
/** Files up to this size go into packs (larger ones are blobs of their own). */
export const PACK_MEMBER_MAX = 1 << 20;

/** The 512-byte ustar header of a regular file `name` of `size` bytes (mode 0644, owner 0, time 0). */
export function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const field = (offset: number, length: number, value: string) => {
    if (Buffer.byteLength(value) > length) throw new Error(`tar field too long: ${value}`);
    h.write(value, offset, length, 'ascii');
  };
  const octal = (offset: number, length: number, n: number) => field(offset, length, n.toString(8).padStart(length - 1, '0') + '\0');
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** Builds one pack in memory: members are added once each (by content), in order. */
export class PackBuilder {
  private readonly parts: Buffer[] = [];
  private readonly hash = createHash('sha256');
  private readonly offsets = new Map<string, number>();
  /** Bytes of the archive so far. */
  bytes = 0;

  get members(): number {
    return this.offsets.size;
  }

  /** Adds a file's content under its sha256; returns the offset of its bytes in the archive. */
  add(sha256: string, content: Buffer): number {
    const known = this.offsets.get(sha256);
    if (known !== undefined) return known;
    this.push(tarHeader(sha256, content.length));
    const offset = this.bytes;
    this.push(content);
    const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (pad) this.push(Buffer.alloc(pad));
    this.offsets.set(sha256, offset);
    return offset;
  }

  /** The archive (ended by two zero blocks, as tar expects) and its sha256. */
  finish(): { parts: Buffer[]; sha256: string; bytes: number } {
    this.push(Buffer.alloc(2 * BLOCK));
    return { parts: this.parts, sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  private push(b: Buffer): void {
    this.parts.push(b);
    this.hash.update(b);
    this.bytes += b.length;
  }
}

/**
 * The bytes of one member of a decrypted pack, or null when the offset and size do not fall
 * inside it behind a header naming `sha256` (a manifest that does not match its pack).
 */
export function packMember(pack: Buffer, sha256: string, offset: number, size: number): Buffer | null {
  if (offset < BLOCK || offset % BLOCK !== 0 || offset + size > pack.length) return null;
  const header = pack.subarray(offset - BLOCK, offset);
  if (header.toString('ascii', 0, 64) !== sha256 || header[64] !== 0) return null;
  return pack.subarray(offset, offset + size);
}

// importChatchat: brings a Chatchat knowledge base's knowledge into Lifeline through the caller's
// ingest callback. Per source file: the original under <kb>/content/ when it is there; otherwise
// one document rebuilt from the docstore's chunks of that source, in order — so a site whose
// index.faiss (or content/) is lost still gets its knowledge back. Vectors are never brought over:
// they were made by an embedding model Lifeline does not have, and are re-embedded by Lifeline's.
import fs from 'node:fs';
import path from 'node:path';
import { readKbDocstore } from './documents.js';
import { existingContentFile, listFiles, normalizeSource } from './layout.js';
import type { ChatchatImportReport, ChatchatProblem, ImportOptions, ImportedDocument } from './types.js';

/** One ingest call carries at most this many documents or bytes. */
export const IMPORT_BATCH_DOCS = 64;
export const IMPORT_BATCH_BYTES = 64 * 1024 * 1024;

/** Extensions a rebuilt text keeps (the text of their chunks is still that format); others get ".txt". */
const TEXT_EXTENSIONS = new Set(['.txt', '.md', '.markdown', '.text']);

/** A document name Lifeline accepts: relative, forward slashes, no "." / "..", no control characters. */
export function safeDocumentName(name: string): string | null {
  const parts = name
    .replace(/\\/g, '/')
    .replace(/[\x00-\x1f]/g, '')
    .split('/')
    .filter((p) => p !== '' && p !== '.' && p !== '..');
  const out = parts.join('/');
  return out && out.length <= 500 ? out : null;
}

export function rebuiltName(source: string): string {
  return TEXT_EXTENSIONS.has(path.extname(source).toLowerCase()) ? source : `${source}.txt`;
}

interface Planned {
  doc: ImportedDocument;
  bytes: Uint8Array;
}

export async function importChatchat(dir: string, opts: ImportOptions): Promise<ChatchatImportReport> {
  const r = readKbDocstore(dir, opts.kbName);
  const kbName = r.kb.name;
  const problems: ChatchatProblem[] = [...r.problems];
  const notBroughtOver: ChatchatImportReport['notBroughtOver'] = [];
  const failed: ChatchatImportReport['failed'] = [];
  const info = r.infoDb?.kbs.get(kbName) ?? null;
  const contentDir = r.kb.dir ? path.join(r.kb.dir, 'content') : null;

  // Chunks per source, in docstore order (== index row order in a healthy store).
  const chunks = new Map<string | null, string[]>();
  for (const d of r.docstore?.docs.values() ?? []) {
    const s = normalizeSource(d.metadata.source, kbName);
    const list = chunks.get(s) ?? [];
    list.push(d.pageContent);
    chunks.set(s, list);
  }
  // Sources: what info.db lists, then what only the docstore names.
  const sources: string[] = [];
  const seen = new Set<string>();
  for (const f of info?.files ?? []) {
    const s = normalizeSource(f.fileName, kbName);
    if (s && !seen.has(s)) {
      sources.push(s);
      seen.add(s);
    }
  }
  for (const s of chunks.keys()) {
    if (s !== null && !seen.has(s)) {
      sources.push(s);
      seen.add(s);
    }
  }

  const planned: Planned[] = [];
  const names = new Set<string>();
  const plan = (doc: ImportedDocument, bytes: Uint8Array) => {
    if (names.has(doc.name)) {
      failed.push({ document: doc.name, reason: `two sources map to the same document name (${doc.source})` });
      return;
    }
    names.add(doc.name);
    planned.push({ doc, bytes });
  };
  for (const source of sources) {
    const original = contentDir ? existingContentFile(contentDir, source) : null;
    if (original) {
      const name = safeDocumentName(source);
      if (!name) {
        problems.push({ code: 'bad-name', message: `"${source}" cannot be a document name; skipped` });
        continue;
      }
      try {
        plan({ name, from: 'original', source, status: 'pending' }, fs.readFileSync(original));
        continue;
      } catch (err) {
        problems.push({ code: 'content-unreadable', message: `${source}: the original cannot be read (${(err as Error).message}); rebuilding it from the docstore` });
      }
    }
    const parts = chunks.get(source);
    if (!parts?.length) {
      notBroughtOver.push({ what: source, reason: 'its original is not under content/ and the docstore holds none of its text' });
      continue;
    }
    const name = safeDocumentName(rebuiltName(source));
    if (!name) {
      problems.push({ code: 'bad-name', message: `"${source}" cannot be a document name; skipped` });
      continue;
    }
    plan({ name, from: 'docstore', source, chunks: parts.length, status: 'pending' }, new TextEncoder().encode(parts.join('\n\n') + '\n'));
  }
  const loose = chunks.get(null);
  if (loose?.length) {
    plan(
      { name: `chatchat-${safeDocumentName(kbName)?.replace(/\//g, '-') ?? 'kb'}-unsourced.txt`, from: 'docstore', source: null, chunks: loose.length, status: 'pending' },
      new TextEncoder().encode(loose.join('\n\n') + '\n'),
    );
  }

  // Hand them to ingest in bounded batches.
  const results = new Map<string, { status: string; error?: string }>();
  let batch: Planned[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (!batch.length) return;
    const items = batch;
    batch = [];
    batchBytes = 0;
    try {
      const out = await opts.ingest(items.map((p) => ({ name: p.doc.name, bytes: p.bytes })));
      for (const f of out.files) results.set(f.document, { status: f.status, ...(f.error !== undefined ? { error: f.error } : {}) });
    } catch (err) {
      for (const p of items) results.set(p.doc.name, { status: 'failed', error: `ingest failed: ${(err as Error).message}` });
    }
  };
  for (const p of planned) {
    if (batch.length && (batch.length >= IMPORT_BATCH_DOCS || batchBytes + p.bytes.byteLength > IMPORT_BATCH_BYTES)) await flush();
    batch.push(p);
    batchBytes += p.bytes.byteLength;
  }
  await flush();

  let imported = 0;
  for (const p of planned) {
    const res = results.get(p.doc.name);
    p.doc.status = res?.status ?? 'failed';
    if (!res) failed.push({ document: p.doc.name, reason: 'ingest did not report on it' });
    else if (res.status === 'failed') failed.push({ document: p.doc.name, reason: res.error ?? 'failed' });
    else imported++;
  }

  // What stays behind, and why.
  const embed = info?.embedModel ?? r.kb.vectorStores.find((v) => v.model)?.model ?? null;
  notBroughtOver.push({
    what: 'vectors (index.faiss)',
    reason: `they were made by ${embed ? `the embedding model ${embed}` : "Chatchat's embedding model"}, which Lifeline does not have; Lifeline re-embeds the imported documents with its configured embedder`,
  });
  const rebuilt = planned.filter((p) => p.doc.from === 'docstore');
  if (rebuilt.length) {
    notBroughtOver.push({
      what: `the original files of ${rebuilt.length} document${rebuilt.length === 1 ? '' : 's'} (${rebuilt.slice(0, 3).map((p) => p.doc.source ?? '(no source)').join(', ')}${rebuilt.length > 3 ? ', …' : ''})`,
      reason: "not under content/: rebuilt as plain text from the docstore's chunks (layout and formatting are lost; overlapping chunk text may repeat)",
    });
  }
  notBroughtOver.push({ what: "Chatchat's chunking and chunk metadata", reason: "Lifeline splits the documents again with its own splitter" });
  if (r.infoDb && r.infoDb.chatRows > 0) {
    notBroughtOver.push({ what: `chat history (${r.infoDb.chatRows} rows in info.db)`, reason: 'conversations are not knowledge; they stay in Chatchat' });
  }
  if (contentDir && fs.existsSync(contentDir)) {
    const extra = listFiles(contentDir).filter((f) => !seen.has(f));
    if (extra.length) {
      notBroughtOver.push({
        what: `${extra.length} file${extra.length === 1 ? '' : 's'} in content/ that Chatchat never indexed (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`,
        reason: 'neither info.db nor the docstore lists them; add them by hand if they belong in the knowledge base',
      });
    }
  }

  const froms = new Set(planned.map((p) => p.doc.from));
  const source: ChatchatImportReport['source'] = froms.size === 0 ? 'none' : froms.size === 2 ? 'mixed' : ([...froms][0] as 'original' | 'docstore');
  return { kb: kbName, source, imported, failed, notBroughtOver, documents: planned.map((p) => p.doc), problems };
}

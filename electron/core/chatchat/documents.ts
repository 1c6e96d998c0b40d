// readChatchatDocuments: the chunks of one Chatchat knowledge base as its docstore (index.pkl)
// holds them — text, metadata and docstore id — readable even when index.faiss is lost.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../api/handlers.js';
import { readInfoDbReporting } from './inspect.js';
import { DOCSTORE_FILE, type InfoDb, type LocatedKb, type LocatedStore, locateStore, normalizeSource } from './layout.js';
import { type DecodedFaissPickle, PickleError, decodeFaissPickle } from './pickle.js';
import type { ChatchatDocuments, ChatchatProblem } from './types.js';

/** The knowledge base named, or the only one; a UserError naming the choices otherwise. */
export function pickKb(located: LocatedStore, kbName?: string): LocatedKb {
  const names = located.kbs.map((k) => k.name);
  if (kbName !== undefined && kbName !== '') {
    const kb = located.kbs.find((k) => k.name === kbName);
    if (!kb) throw new UserError('chatchat-kb-not-found', `no knowledge base "${kbName}" in ${located.root}; there ${names.length === 1 ? 'is' : 'are'}: ${names.join(', ') || '(none)'}`);
    return kb;
  }
  if (located.kbs.length === 1) return located.kbs[0]!;
  if (located.kbs.length === 0) throw new UserError('chatchat-no-kb', `${located.root} holds no knowledge base`);
  throw new UserError('chatchat-kb-ambiguous', `${located.root} holds ${names.length} knowledge bases (${names.join(', ')}): name the one to use`);
}

export interface KbDocstore {
  located: LocatedStore;
  kb: LocatedKb;
  infoDb: InfoDb | null;
  /** Relative to the root; null when no docstore was readable. */
  vectorStore: string | null;
  docstore: DecodedFaissPickle | null;
  problems: ChatchatProblem[];
}

/** Reads the docstore of a knowledge base: the store info.db's embed model names first, then the others. */
export function readKbDocstore(dir: string, kbName?: string): KbDocstore {
  const located = locateStore(dir);
  const kb = pickKb(located, kbName);
  const problems: ChatchatProblem[] = [];
  const infoDb = located.infoDbPath ? readInfoDbReporting(located.infoDbPath, false, problems) : null;
  const embedModel = infoDb?.kbs.get(kb.name)?.embedModel ?? null;
  const stores = [...kb.vectorStores].sort((a, b) => Number(b.model === embedModel) - Number(a.model === embedModel));
  if (stores.length === 0) problems.push({ code: 'docstore-missing', message: `"${kb.name}" has no vector store folder, so no ${DOCSTORE_FILE}` });
  for (const vs of stores) {
    const file = path.join(vs.abs, DOCSTORE_FILE);
    if (!fs.existsSync(file)) {
      problems.push({ code: 'docstore-missing', message: `${DOCSTORE_FILE} is missing from ${vs.rel}` });
      continue;
    }
    try {
      const docstore = decodeFaissPickle(fs.readFileSync(file));
      return { located, kb, infoDb, vectorStore: vs.rel, docstore, problems };
    } catch (err) {
      const reason = err instanceof PickleError ? err.message : err instanceof Error ? err.message : String(err);
      problems.push({ code: 'docstore-corrupt', message: `${vs.rel}/${DOCSTORE_FILE} cannot be read: ${reason}` });
    }
  }
  return { located, kb, infoDb, vectorStore: null, docstore: null, problems };
}

/** The chunks of a knowledge base (default: the only one) from its docstore, in docstore order. */
export function readChatchatDocuments(dir: string, kbName?: string): ChatchatDocuments {
  const r = readKbDocstore(dir, kbName);
  const problems = [...r.problems];
  if (!r.docstore) return { kb: r.kb.name, vectorStore: null, documents: [], problems };
  if (r.docstore.badDocs.length) {
    problems.push({ code: 'docstore-corrupt', message: `${r.docstore.badDocs.length} docstore entries are not readable Documents and were skipped` });
  }
  const documents = [...r.docstore.docs.values()].map((d) => ({
    source: normalizeSource(d.metadata.source, r.kb.name),
    text: d.pageContent,
    metadata: d.metadata,
    docId: d.id,
  }));
  const unsourced = documents.filter((d) => d.source === null).length;
  if (unsourced) problems.push({ code: 'no-source', message: `${unsourced} chunks name no source file (metadata.source)` });
  return { kb: r.kb.name, vectorStore: r.vectorStore, documents, problems };
}

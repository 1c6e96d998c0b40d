// Report shapes of the Langchain-Chatchat rescue domain (DESIGN.md "Langchain-Chatchat stores").
// Everything here is plain JSON: the CLI prints it with --json and the console renders it.

export interface ChatchatProblem {
  /** Stable, for programs: see PROBLEM_CODES. */
  code: string;
  /** For the operator: what is wrong, with counts and a few example ids or rows. */
  message: string;
}

/**
 * ok                everything that could be checked agrees;
 * missing-index     index.faiss is absent (the docstore may still hold every chunk's text);
 * missing-docstore  index.pkl is absent;
 * mismatch          counts or ids disagree between index, id map, docstore and info.db
 *                   (or, with --deep, a self-search / normalisation / row-order check failed);
 * corrupt           a file is unreadable or truncated, or stored vectors are damaged.
 * When several apply, the first of corrupt, missing-index, missing-docstore, mismatch wins;
 * `problems` lists them all.
 */
export type VectorStoreStatus = 'ok' | 'missing-index' | 'missing-docstore' | 'mismatch' | 'corrupt';

export interface SelfSearchSummary {
  /** Rows searched for themselves (all of them, or an evenly spread sample of up to 2000). */
  checked: number;
  /** Rows that did not come back first at distance ~0 (L2) / their own score (IP). */
  failed: number;
  /** Set when self-search could not run (no readable index, or not a flat index). */
  skipped?: string;
}

export interface VectorStoreReport {
  /** Relative to the report's root, forward slashes ("." for a bare LangChain folder). */
  path: string;
  /** "IndexFlatL2", "IndexFlatIP", … from the file's fourcc; null when index.faiss is absent or unreadable. */
  indexType: string | null;
  metric: 'l2' | 'ip' | null;
  dimension: number | null;
  /** Vectors in index.faiss (ntotal); null when it is absent or unreadable. */
  vectors: number | null;
  /** Documents in the docstore (index.pkl), counted even when index.faiss is missing. */
  documents: number | null;
  /** Entries in the row → docstore id map (index.pkl). */
  idMap: number | null;
  status: VectorStoreStatus;
  problems: ChatchatProblem[];
  /** --deep only: whether every stored vector has unit L2 norm (what Chatchat writes); null when unknown. */
  normalized?: boolean | null;
  /** --deep only. */
  selfSearch?: SelfSearchSummary;
}

export interface ChatchatKbReport {
  name: string;
  /** From info.db (knowledge_base.embed_model), else the vector_store sub-folder name; null for a bare folder. */
  embedModel: string | null;
  vectorStores: VectorStoreReport[];
  /** Rows for this knowledge base in info.db: knowledge_file rows and file_doc rows (null without file_doc). */
  infoDb: { files: number; docs: number | null } | null;
  /** Files listed in knowledge_file (or, without info.db, named by the docstore) found / not found under <kb>/content/. */
  content: { present: number; missing: number };
  /** Problems of the knowledge base itself (content files missing, folder missing, not a FAISS store). */
  problems: ChatchatProblem[];
}

export interface ChatchatReport {
  /** Absolute path of the folder inspected: the knowledge_base folder, or the bare LangChain folder. */
  root: string;
  /** True when every vector store is ok and there are no problems anywhere in the report. */
  ok: boolean;
  deep: boolean;
  knowledgeBases: ChatchatKbReport[];
  /** Problems of the whole store (info.db unreadable or corrupt). */
  problems: ChatchatProblem[];
}

export interface InspectOptions {
  /** Self-search stored vectors, check normalisation and row order, quick_check info.db, load the index in FAISS. */
  deep?: boolean;
}

export interface ChatchatDocument {
  /** Path relative to <kb>/content/ (forward slashes), from metadata.source; null when the chunk names no source. */
  source: string | null;
  text: string;
  metadata: Record<string, unknown>;
  /** The docstore key (== info.db file_doc.doc_id). */
  docId: string;
}

export interface ChatchatDocuments {
  kb: string;
  /** Relative to the store root: the vector store the chunks were read from; null when none was readable. */
  vectorStore: string | null;
  /** In docstore order (which is index row order in a healthy store). */
  documents: ChatchatDocument[];
  problems: ChatchatProblem[];
}

/** What Lifeline's ingestion returns for each source (IngestReport fits). */
export interface ChatchatIngestResult {
  files: { document: string; status: string; error?: string }[];
}

export type ChatchatIngest = (sources: { name: string; bytes: Uint8Array }[]) => Promise<ChatchatIngestResult>;

export interface ImportOptions {
  /** The source knowledge base inside Chatchat; default: the only one. */
  kbName?: string;
  ingest: ChatchatIngest;
}

export interface ImportedDocument {
  /** The document name handed to ingest. */
  name: string;
  from: 'original' | 'docstore';
  /** The Chatchat source (relative to content/), or null for chunks naming no source. */
  source: string | null;
  /** Docstore chunks joined to rebuild it (from: docstore only). */
  chunks?: number;
  /** What ingest said ("added", "updated", "unchanged", "failed", …). */
  status: string;
}

export interface ChatchatImportReport {
  kb: string;
  /** Where the documents came from: all originals, all rebuilt from the docstore, both, or nothing importable. */
  source: 'original' | 'docstore' | 'mixed' | 'none';
  /** Documents ingest accepted (any status but "failed"). */
  imported: number;
  failed: { document: string; reason: string }[];
  notBroughtOver: { what: string; reason: string }[];
  documents: ImportedDocument[];
  /** Problems met while reading the Chatchat store (docstore unreadable, unsafe file names, …). */
  problems: ChatchatProblem[];
}

/**
 * Problem codes. Vector store: index-missing, docstore-missing, index-corrupt, docstore-corrupt,
 * count-mismatch, id-map, info-db-mismatch; --deep adds self-search, not-normalized,
 * vector-not-finite, id-map-order. Knowledge base: content-missing, kb-folder-missing,
 * info-db-kb-missing, not-faiss. Store: info-db-unreadable, info-db-corrupt. Reading/importing
 * documents adds no-source, bad-name, content-unreadable.
 */
export const PROBLEM_CODES = [
  'index-missing',
  'docstore-missing',
  'index-corrupt',
  'docstore-corrupt',
  'count-mismatch',
  'id-map',
  'info-db-mismatch',
  'self-search',
  'not-normalized',
  'vector-not-finite',
  'id-map-order',
  'content-missing',
  'kb-folder-missing',
  'info-db-kb-missing',
  'not-faiss',
  'info-db-unreadable',
  'info-db-corrupt',
  'no-source',
  'bad-name',
  'content-unreadable',
] as const;

export type ChatchatProblemCode = (typeof PROBLEM_CODES)[number];

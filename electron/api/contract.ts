// The one typed contract between the console and the core. The same method names and shapes
// travel over Electron IPC (preload → main) and over HTTP (browser → `lifeline serve`).
// This file is "common": it must not import Node or browser APIs.

export type Locale = 'zh-CN' | 'en';

export interface EmbedderFingerprint {
  id: string;
  version: string;
  dimension: number;
  normalization: 'l2' | 'none';
}

export interface AppInfo {
  name: 'Lifeline';
  version: string;
  shell: 'electron' | 'server' | 'cli';
  dataRoot: string;
  /** Set when the data root is somewhere a reboot may empty (a temporary folder). */
  dataRootWarning: string | null;
  /** The previous run did not shut down cleanly (power cut, crash): the console opens the recovery wizard. */
  uncleanShutdown: boolean;
}

export interface ReadyState {
  /** `initializing` while indexes and models load: a cold start is never a failure. */
  status: 'initializing' | 'ready' | 'failed';
  phase: string;
  percent: number;
  error?: string;
}

export interface KbSummary {
  name: string;
  description: string;
  createdAt: string;
  documents: number;
  chunks: number;
  embedder: EmbedderFingerprint;
}

export interface AskRequest {
  question: string;
  /** Restrict to one knowledge base; all knowledge bases when absent. */
  kb?: string;
  /** Restrict to these documents of the knowledge base (names as ingested). */
  documents?: string[];
  /** How many passages to cite at most (default 4). */
  limit?: number;
  /** Client-chosen id for streaming (`answer.delta` events) and cancellation (`ask.cancel`). */
  streamId?: string;
}

export interface Citation {
  /** 1-based marker as it appears in the answer text, e.g. [1]. */
  n: number;
  kb: string;
  /** The file's name as ingested. */
  document: string;
  /** Human-readable location: heading, lines, page or row. */
  location: string;
  score: number;
  chunkId: number;
  /** The cited passage. */
  passage: string;
}

export interface AskResponse {
  answer: string;
  /** False when the knowledge base does not cover the question; the answer then says so. */
  covered: boolean;
  citations: Citation[];
  mode: 'extractive' | 'model';
  /** The chat model's file name when mode is 'model'. */
  model?: string;
  /** True when the operator stopped the generation; `answer` holds what was produced. */
  cancelled?: boolean;
  tookMs: number;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRecord {
  id: string;
  kind: string;
  title: string;
  state: JobState;
  done: number;
  total: number;
  bytesDone: number;
  bytesTotal: number;
  /** Estimated milliseconds left, when it can be estimated. */
  etaMs: number | null;
  message: string;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface DocumentSummary {
  kb: string;
  /** The file's name as ingested (relative path inside the folder it came from). */
  name: string;
  format: string;
  bytes: number;
  chunks: number;
  sha256: string;
  ingestedAt: string;
}

export interface DeletedKbSummary {
  name: string;
  deletedAt: string;
  documents: number;
}

export type IngestStatus = 'added' | 'updated' | 'unchanged' | 'failed';

export interface IngestFileResult {
  document: string;
  status: IngestStatus;
  chunks: number;
  error?: string;
}

export interface IngestReport {
  kb: string;
  files: IngestFileResult[];
  added: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export interface ModelSummary {
  /** Path relative to the data root's models/ folder. */
  name: string;
  bytes: number;
  sha256: string;
  kind: 'embedding' | 'chat' | 'unknown';
  architecture: string | null;
  error?: string;
}

export interface IntegrityProblem {
  code: string;
  severity: 'error' | 'warning';
  /** Relative to the data root. */
  path: string;
  message: string;
  /** rebuild (derived data: `repair`), restore (from a backup), reembed, sweep, resume, none. */
  repair: string;
  kb?: string;
}

export interface VerifyResult {
  ok: boolean;
  deep: boolean;
  checked: Record<string, number>;
  problems: IntegrityProblem[];
  durationMs: number;
}

export interface RepairResult {
  ok: boolean;
  actions: { code: string; action: string; kb?: string; ok: boolean; error?: string }[];
  needsRestore: IntegrityProblem[];
  after: VerifyResult;
}

export interface VerifyRun {
  at: string;
  deep: boolean;
  ok: boolean;
  errors: number;
  warnings: number;
  durationMs: number;
}

export interface HealthComponent {
  id: 'catalog' | 'indexes' | 'models' | 'jobs' | 'backups';
  status: 'ok' | 'warn' | 'fail' | 'unknown';
  detail: string;
}

export interface HealthSummary {
  ready: ReadyState;
  components: HealthComponent[];
  lastVerify: VerifyRun | null;
  history: VerifyRun[];
}

export interface ChatchatVectorStore {
  path: string;
  indexType: string | null;
  metric: string | null;
  dimension: number | null;
  vectors: number | null;
  documents: number | null;
  idMap: number | null;
  status: 'ok' | 'missing-index' | 'missing-docstore' | 'mismatch' | 'corrupt';
  problems: { code: string; message: string }[];
}

export interface ChatchatReport {
  ok: boolean;
  root: string;
  knowledgeBases: {
    name: string;
    embedModel: string | null;
    vectorStores: ChatchatVectorStore[];
    infoDb: { files: number; docs: number | null } | null;
    content: { present: number; missing: number };
  }[];
}

export interface ChatchatImportResult {
  kb: string;
  source: 'original' | 'docstore' | 'mixed';
  imported: number;
  failed: { document: string; reason: string }[];
  notBroughtOver: { what: string; reason: string }[];
}

export interface BackupTarget {
  /** Mount point or folder. */
  path: string;
  label: string | null;
  kind: 'drive' | 'folder';
  device: string | null;
  fsType: string | null;
  removable: boolean;
  mounted: boolean;
  /** A LUKS-encrypted drive: `note` says how to unlock it. */
  encrypted: boolean;
  sizeBytes: number | null;
  freeBytes: number | null;
  /** Backup repositories found on it (folders holding lifeline-repo.json). */
  repositories: string[];
  /** Those of them this data root can back up to without the passphrase (it remembers their write key). */
  withoutPassphrase?: string[];
  note: string | null;
}

export interface SnapshotSummary {
  id: string;
  time: string;
  host: string;
  lifelineVersion: string;
  files: number;
  bytes: number;
  knowledgeBases: { name: string; documents: number; chunks: number; embedder: string }[];
  /** Only what the retention keeps of an older snapshot (logs, deleted documents): not restorable as a data root. */
  retained?: boolean;
}

export interface BackupResult {
  repo: string;
  snapshot: string;
  files: number;
  /** Files whose content was not in the repository yet (written now). */
  newFiles: number;
  bytesTotal: number;
  bytesWritten: number;
  durationMs: number;
  pruned: string[];
  /**
   * The backup was made with the data root's write key (no passphrase given): old snapshots are
   * pruned by the next backup given the passphrase, or by `lifeline backups prune`.
   */
  pruneDeferred?: boolean;
}

export interface BackupVerifyResult {
  ok: boolean;
  snapshots: number;
  blobsChecked: number;
  bytesChecked: number;
  damaged: { snapshot: string; file: string; blob: string; reason: string }[];
}

export interface RestoreResult {
  repo: string;
  snapshot: string;
  /** Knowledge bases before (live) and after (restored): for the before/after summary. */
  before: { name: string; documents: number; chunks: number }[];
  after: { name: string; documents: number; chunks: number }[];
  /** What the staging check found before the swap. */
  staged: { files: number; bytes: number; verify: VerifyResult };
  /** Where the previous data root was kept (for `restore --rollback`), null for an empty target. */
  previous: string | null;
  durationMs: number;
}

export interface BackupPolicy {
  /** Daily schedule, local time HH:MM; null turns scheduled backups off. */
  dailyAt: string | null;
  /** Repositories (folders on drives or NAS mounts) each scheduled backup writes to. */
  targets: string[];
  /** Snapshots kept: the newest of each of the last N days (indexes), default 7. */
  keepDailySnapshots: number;
  /** Days the logs (recovery reports) of older snapshots are kept, default 30 (logs-only manifests). */
  keepLogDays?: number;
  /** Warn when the last good backup is older than this many hours (default 26). */
  maxAgeHours: number;
  /**
   * A file holding the repositories' passphrase (mode 0600), read by scheduled backups only.
   * Optional: without it, each scheduled backup uses the write key this data root remembers for
   * its target (no passphrase on the machine), and pruning waits for a backup given the passphrase.
   */
  passphraseFile?: string | null;
}

export interface BackupStatus {
  policy: BackupPolicy;
  lastGood: { at: string; repo: string; snapshot: string } | null;
  lastAttempt: { at: string; repo: string; ok: boolean; error: string | null } | null;
  /** Set when the last good backup is older than the policy allows. */
  warning: string | null;
  nextRun: string | null;
  /**
   * Repositories (the scheduled targets and the last good backup's) holding snapshots past the
   * retention: backups made with the write key cannot prune, and pruning needs the passphrase.
   */
  pruneDue?: { repo: string; snapshots: number }[];
}

export type FindingSeverity = 'ok' | 'warn' | 'fail' | 'info';

export interface FindingAction {
  id: string;
  label: string;
  /** Destructive actions need confirmation and create a rollback point first. */
  destructive: boolean;
}

export interface Finding {
  code: string;
  severity: FindingSeverity;
  message: string;
  /** What was seen: command output excerpts, numbers. */
  evidence: string[];
  /** What to do with one's hands (e.g. wait 30 seconds before powering a disk back on). */
  advice?: string;
  actions: FindingAction[];
}

export type WizardStepId = 'hardware' | 'storage' | 'services' | 'models' | 'integrity' | 'golden' | 'restore' | 'report';
export type StepStatus = 'pending' | 'ok' | 'warn' | 'fail' | 'skipped';

export interface AuditEntry {
  at: string;
  operator: string;
  step: WizardStepId | null;
  action: string;
  detail: string;
  ok: boolean;
}

export interface WizardStep {
  id: WizardStepId;
  status: StepStatus;
  findings: Finding[];
  checkedAt: string | null;
  durationMs: number | null;
}

export interface WizardRun {
  id: string;
  operator: string;
  startedAt: string;
  finishedAt: string | null;
  /** The step the operator is on; a second outage mid-recovery resumes here. */
  current: WizardStepId;
  steps: WizardStep[];
  audit: AuditEntry[];
  /** Set when the previous run of Lifeline did not shut down cleanly. */
  uncleanShutdown: boolean;
  reportId: string | null;
}

export interface DoctorReport {
  ok: boolean;
  steps: { id: WizardStepId; status: 'ok' | 'warn' | 'fail' | 'skipped'; findings: Finding[] }[];
  durationMs: number;
}

export interface ReportSummary {
  id: string;
  runId: string;
  operator: string;
  startedAt: string;
  finishedAt: string;
  recoveryMs: number;
  ok: boolean;
}

// A golden set's shape is defined once, with the golden-questions domain (types only, common code).
export type { GoldenQuestion, GoldenSet } from '../core/golden/types.js';
import type { GoldenSet } from '../core/golden/types.js';

export interface GoldenResult {
  id: string;
  question: string;
  passed: boolean;
  reasons: string[];
  latencyMs: number;
  answer: string;
  citations: { document: string; location: string }[];
  /** What changed since the baseline, in words (empty when nothing did or there is no baseline). */
  changes: string[];
}

export interface GoldenRunResult {
  kb: string;
  at: string;
  passed: number;
  failed: number;
  total: number;
  passRatio: number;
  durationMs: number;
  hasBaseline: boolean;
  results: GoldenResult[];
}

export const DRILL_SCENARIOS = [
  'index-lost',
  'index-corrupt',
  'catalog-corrupt',
  'model-missing',
  'disk-full',
  'container-down',
  'port-conflict',
  'usb-pulled-mid-restore',
  'power-cut-mid-ingest',
  'power-cut-mid-backup',
] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

export interface DrillStep {
  at: string;
  /** What the drill did or saw, in words. */
  what: string;
  ok: boolean;
}

export interface DrillResult {
  id: string;
  scenario: DrillScenario;
  startedAt: string;
  /** The fault was found by Lifeline's own checks. */
  detected: boolean;
  /** The sandbox came back to a verified state (for catalog-corrupt: through a restore). */
  recovered: boolean;
  detectMs: number | null;
  recoverMs: number | null;
  /** Anything that could not be brought back (documents, answers). */
  dataLost: boolean;
  /** Set when the scenario could not run here (no Docker engine, not root for loop devices…). */
  skipped: string | null;
  steps: DrillStep[];
}

export interface DrillSchedule {
  /** Day of the month (1–28) the drills run on; null: not scheduled. */
  monthlyDay: number | null;
  scenarios: DrillScenario[];
  lastRun: string | null;
  nextRun: string | null;
}

/** Every call: request and response shapes, by method name. */
export interface ApiMethods {
  'app.info': { req: Record<string, never>; res: AppInfo };
  'app.ready': { req: Record<string, never>; res: ReadyState };
  'kb.list': { req: Record<string, never>; res: KbSummary[] };
  /** `embedder`: a GGUF embedding model file in models/, or absent for the built-in default. */
  'kb.create': { req: { name: string; description?: string; embedder?: string }; res: KbSummary };
  /** Re-embeds every chunk with another embedder (`default` or a GGUF file) as one swap. */
  'kb.reembed': { req: { kb: string; embedder: string }; res: { chunks: number; embedder: EmbedderFingerprint } };
  'kb.rename': { req: { name: string; newName: string }; res: KbSummary };
  /** Soft delete: recoverable with kb.undelete until purged. `confirm` must repeat the name. */
  'kb.delete': { req: { name: string; confirm: string }; res: { deleted: string } };
  'kb.deleted': { req: Record<string, never>; res: DeletedKbSummary[] };
  'kb.undelete': { req: { name: string }; res: KbSummary };
  'kb.purge': { req: { name: string; confirm: string }; res: { purged: string } };
  'kb.documents': { req: { kb: string }; res: DocumentSummary[] };
  'kb.deleteDocument': { req: { kb: string; document: string }; res: { deleted: string } };
  /** Starts a compaction job (rewrites segments without deleted rows); resolves when done. */
  'kb.compact': { req: { kb: string }; res: { segmentsBefore: number; segmentsAfter: number; vectors: number } };
  /**
   * One uploaded file (the console's drag and drop): its bytes as base64, at most 64 MiB.
   * Ingested at once as a job; the result says added/updated/unchanged/failed and why.
   */
  'kb.upload': { req: { kb: string; name: string; dataBase64: string }; res: IngestFileResult };
  /**
   * Answers a question. With `streamId`, partial answer text is pushed as `answer.delta`
   * events while a model generates; `ask.cancel` with the same id stops it.
   */
  ask: { req: AskRequest; res: AskResponse };
  'ask.cancel': { req: { streamId: string }; res: { cancelled: boolean } };
  'models.list': { req: Record<string, never>; res: ModelSummary[] };
  /** Which chat model answers (a file in models/), or null for extractive answers only. */
  'models.useChat': { req: { name: string | null }; res: { chatModel: string | null } };
  'integrity.verify': { req: { deep?: boolean }; res: VerifyResult };
  'integrity.repair': { req: Record<string, never>; res: RepairResult };
  'health.summary': { req: Record<string, never>; res: HealthSummary };
  /** Reads a Langchain-Chatchat knowledge_base folder (or a bare LangChain FAISS folder) on this machine. */
  'chatchat.inspect': { req: { dir: string; deep?: boolean }; res: ChatchatReport };
  /** Brings a Chatchat knowledge base's documents into a Lifeline knowledge base (created if needed). */
  'chatchat.import': { req: { dir: string; kb: string; sourceKb?: string }; res: ChatchatImportResult };
  /** Plugged-in drives and configured folders, with the repositories on them. */
  'backup.targets': { req: Record<string, never>; res: BackupTarget[] };
  /** Mounts an unmounted drive (the operator asked for it). */
  'backup.mount': { req: { device: string }; res: { mountpoint: string } };
  /** Creates an encrypted repository in a folder (empty or new). */
  'backup.init': { req: { repo: string; passphrase: string }; res: { repo: string; id: string } };
  /** Backs the data root up into the repository (created if needed): a job with bytes and ETA. */
  'backup.run': { req: { repo: string; passphrase: string }; res: BackupResult };
  'backup.snapshots': { req: { repo: string; passphrase: string }; res: SnapshotSummary[] };
  /** Decrypts and re-hashes every blob (or a rotating sample of `sample` blobs). */
  'backup.verify': { req: { repo: string; passphrase: string; sample?: number }; res: BackupVerifyResult };
  /** Restores a snapshot (latest by default): staged, verified, then swapped in. */
  'backup.restore': { req: { repo: string; passphrase: string; snapshot?: string; kb?: string }; res: RestoreResult };
  /** Puts back the data root that the last restore replaced. */
  'backup.rollback': { req: Record<string, never>; res: { restored: string } };
  'backup.status': { req: Record<string, never>; res: BackupStatus };
  'backup.setPolicy': { req: Partial<BackupPolicy>; res: BackupStatus };
  /** The recovery run in progress (persisted), or null. */
  'wizard.current': { req: Record<string, never>; res: WizardRun | null };
  /** Starts a recovery run (or returns the unfinished one, which resumes where it stopped). */
  'wizard.start': { req: { operator: string }; res: WizardRun };
  /** Runs a step's checks (again) and stores the findings. */
  'wizard.check': { req: { step: WizardStepId }; res: WizardRun };
  /** Runs an action of a finding; destructive ones need `confirm: true`. Re-checks the step after. */
  'wizard.action': { req: { step: WizardStepId; action: string; finding?: string; confirm?: boolean; params?: Record<string, string> }; res: WizardRun };
  /** Moves to another step (next, or any step the operator picks). */
  'wizard.goto': { req: { step: WizardStepId }; res: WizardRun };
  /** Ends the run and writes the report. */
  'wizard.finish': { req: Record<string, never>; res: WizardRun };
  'doctor.run': { req: Record<string, never>; res: DoctorReport };
  'reports.list': { req: Record<string, never>; res: ReportSummary[] };
  /** The report as a self-contained HTML page. */
  'reports.get': { req: { id: string }; res: { id: string; html: string } };
  /** The report as PDF: only in the desktop app, where Electron can print (the server says so). */
  'reports.pdf': { req: { id: string }; res: { id: string; pdfBase64: string } };
  'golden.sets': { req: Record<string, never>; res: GoldenSet[] };
  'golden.save': { req: { set: GoldenSet }; res: GoldenSet };
  'golden.run': { req: { kb: string }; res: GoldenRunResult };
  'golden.baseline': { req: { kb: string }; res: GoldenRunResult };
  /** Runs a disaster drill on a sandbox copy of the data root (never the live one). */
  'drills.run': { req: { scenario: DrillScenario }; res: DrillResult };
  'drills.history': { req: Record<string, never>; res: DrillResult[] };
  'drills.schedule': { req: Record<string, never>; res: DrillSchedule };
  'drills.setSchedule': { req: { monthlyDay?: number | null; scenarios?: DrillScenario[] }; res: DrillSchedule };
  'jobs.list': { req: Record<string, never>; res: JobRecord[] };
  'jobs.cancel': { req: { id: string }; res: { cancelled: boolean } };
}

export type ApiMethod = keyof ApiMethods;
export type ApiRequest<M extends ApiMethod> = ApiMethods[M]['req'];
export type ApiResponse<M extends ApiMethod> = ApiMethods[M]['res'];

/** The allow-list the preload and the HTTP server check every call against. */
export const API_METHODS: readonly ApiMethod[] = [
  'app.info',
  'app.ready',
  'kb.list',
  'kb.create',
  'kb.rename',
  'kb.delete',
  'kb.deleted',
  'kb.undelete',
  'kb.purge',
  'kb.documents',
  'kb.deleteDocument',
  'kb.compact',
  'kb.reembed',
  'kb.upload',
  'ask',
  'ask.cancel',
  'models.list',
  'models.useChat',
  'integrity.verify',
  'integrity.repair',
  'health.summary',
  'chatchat.inspect',
  'chatchat.import',
  'backup.targets',
  'backup.mount',
  'backup.init',
  'backup.run',
  'backup.snapshots',
  'backup.verify',
  'backup.restore',
  'backup.rollback',
  'backup.status',
  'backup.setPolicy',
  'wizard.current',
  'wizard.start',
  'wizard.check',
  'wizard.action',
  'wizard.goto',
  'wizard.finish',
  'doctor.run',
  'reports.list',
  'reports.get',
  'reports.pdf',
  'golden.sets',
  'golden.save',
  'golden.run',
  'golden.baseline',
  'drills.run',
  'drills.history',
  'drills.schedule',
  'drills.setSchedule',
  'jobs.list',
  'jobs.cancel',
];

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && (API_METHODS as readonly string[]).includes(name);
}

/** Events pushed from the core to the console. */
export type ApiEvent =
  | { type: 'job'; job: JobRecord }
  | { type: 'ready'; ready: ReadyState }
  /** Partial answer text while a model generates (`text` is the new piece, not the whole). */
  | { type: 'answer.delta'; streamId: string; text: string }
  /** The backup targets changed (a drive was plugged in or pulled). */
  | { type: 'backup.targets'; targets: BackupTarget[] };

/** A failed call: the message is for the operator, the code for programs. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

// IPC channel names (Electron). The HTTP server uses POST /api/<method> and GET /api/events.
export const IPC_INVOKE = 'lifeline:invoke';
export const IPC_EVENT = 'lifeline:event';

/** What the preload exposes as `window.lifeline`. */
export interface PreloadBridge {
  invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
}

/** What an IPC call resolves to; the preload turns `ok: false` into a rejected promise. */
export type ApiResult<T = unknown> = { ok: true; value: T } | ({ ok: false } & ApiErrorBody);

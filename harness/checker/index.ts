// The invariant checker (ARCHITECTURE.md §3): reads only the run history and the database.
export { checkInvariants, formatVerdicts, invariantChecks, overallVerdict } from './check.ts';
export type { CheckOptions, InvariantCheck } from './check.ts';
export type { Db } from './db.ts';
export { installProgressAudit, progressAuditInstalled, progressAuditSql } from './progress-audit.ts';
export { runFacts } from './run-facts.ts';
export type {
  AckFact,
  CaptureFact,
  FinalQueueFact,
  ImageEventFact,
  PipelineStepFact,
  ReannouncementFact,
  RunFacts,
} from './run-facts.ts';
export { checkUnique } from './i1-unique.ts';
export { checkNoLoss } from './i2-no-loss.ts';
export { checkIntegrity } from './i3-integrity.ts';
export { checkProgressKept } from './i4-progress-kept.ts';
export { checkLiveness } from './i5-liveness.ts';
export { checkDuplicatesLogged } from './i6-duplicates-logged.ts';
export { checkAckAfterDurability, pipelineAcksBeforeCommit } from './i7-ack-after-durability.ts';
export { checkNoPhantoms } from './i8-no-phantoms.ts';
export { checkMalformedRecorded } from './i9-malformed-recorded.ts';
export { invariantIds, invariantInfo, OFFENDING_SHOWN_MAX } from './verdict.ts';
export type { InvariantId, InvariantVerdict, Verdict } from './verdict.ts';
export { keptImageIds, compareForKeep } from './cleanup-ranking.ts';
export type { RankableImage } from './cleanup-ranking.ts';

export {
  checkMigration,
  MIGRATION_SNAPSHOT_TABLE,
  migrationSnapshotTaken,
  snapshotBeforeCleanup,
} from './m1-migration.ts';
export { unknown as unknownVerdict } from './verdict.ts';

// The pipeline's pure decision core (ARCHITECTURE.md §6 sans-I/O): facts + one decoded message → a decision.
export * from './facts.ts';
export { decideHello } from './hello.ts';
export {
  decideMetadata,
  refuseBeforeLookup,
  CHUNK_BYTES_MAX,
  isSameCapture,
  metadataRecord,
  celsiusToFahrenheit,
  type MetadataDecision,
  type CaptureTime,
} from './metadata.ts';
export {
  openRequestFor,
  judgeOpened,
  judgeInsertFailure,
  edgeWriteOf,
  sqlStateOf,
  UNIQUE_VIOLATION,
  type TransferRoute,
  type OpenRequest,
  type OpenResult,
  type OpenedVerdict,
  type InsertFailureVerdict,
  type RoutedDecision,
  type EdgeWrite,
} from './open.ts';
export { decideChunk, expectedChunkBytes, type ChunkDecision } from './chunk.ts';
export { isAllStored, finishedImageIds, type FlushedImage } from './progress.ts';
export {
  transferStep,
  stateOfStoredRow,
  chunkArrival,
  isSettled,
  isSweepable,
  type TransferState,
  type TransferEvent,
  type TransferStep,
} from './transfer-state.ts';
export { ackOkMessage, owedAckRecord, recoveredAck, wakeAtIso, type AckBasis, type AckTarget } from './ack.ts';
export {
  pipelineProfiles,
  isPipelineProfile,
  policyOf,
  PROFILE_POLICIES,
  duplicateLogging,
  receivedChunksRewrite,
  storedOnOpen,
  type PipelineProfile,
  type ProfilePolicy,
  type OpenedTransfer,
} from './profile.ts';
export { sweepIdleMs, isDueForSweep, isStillIdle, sweepAction, type SweptTransfer, type SweepAction } from './sweep.ts';
export { isOwnReply, macOfTopic, rejectionRecord, type PipelineRejectCode, type RejectionRecord } from './rejection.ts';
export { verifyAssembly, type AssemblyFacts, type AssemblyVerdict } from './assembly.ts';
export { missingChunkIds, MISSING_IDS_PER_REQUEST_MAX } from './missing.ts';
export { storedNameCandidates, disambiguatedName, timestampTag, fnv1a32, STORED_NAME_CANDIDATES_MAX } from './names.ts';
export { defaultNextWakeMs, WAKE_INTERVAL_MS, WAKE_STAGGER_MS } from './schedule.ts';

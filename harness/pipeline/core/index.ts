// The pipeline's pure decision core (ARCHITECTURE.md §6 sans-I/O): facts + one decoded message → a decision.
export * from './facts.ts';
export { decideHello } from './hello.ts';
export {
  decideMetadata,
  CHUNK_BYTES_MAX,
  isSameCapture,
  metadataRecord,
  celsiusToFahrenheit,
  type MetadataDecision,
  type CaptureTime,
} from './metadata.ts';
export { decideChunk, expectedChunkBytes, type ChunkDecision } from './chunk.ts';
export { verifyAssembly, type AssemblyFacts, type AssemblyVerdict } from './assembly.ts';
export { missingChunkIds, MISSING_IDS_PER_REQUEST_MAX } from './missing.ts';
export { storedNameCandidates, disambiguatedName, timestampTag, fnv1a32, STORED_NAME_CANDIDATES_MAX } from './names.ts';
export { defaultNextWakeMs, WAKE_INTERVAL_MS, WAKE_STAGGER_MS } from './schedule.ts';

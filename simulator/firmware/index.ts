// The simulated ESP32-CAM firmware v3.5.0: a pure core plus synthetic images. See README.md.
export { ackedCapture, step } from './step.ts';
export type { StepResult } from './step.ts';
export type { FirmwareInput, FirmwareInputType, StepContext, TimestampStyle } from './inputs.ts';
export type { CapturedImageInfo, FirmwareEffect, FirmwareEffectType, GaveUpReason, SleepSource } from './effects.ts';
export {
  FIRMWARE_CONFIG_DEFAULTS,
  freshRam,
  initialState,
  makeFirmwareConfig,
  queuedNames,
  withImageCounter,
  withoutQueuedCapture,
} from './state.ts';
export type {
  ArmedTimer,
  FirmwareConfig,
  FirmwareConfigOptions,
  FirmwareState,
  PersistentState,
  Phase,
  QueuedImage,
  RamState,
  WaitKind,
} from './state.ts';
export {
  IMAGE_BYTES_MIN,
  JPEG_BYTES_MIN,
  chunkAt,
  chunkCount,
  chunkImage,
  drawImageSizeBytes,
  sha256Hex,
  synthesizeJpeg,
} from './image.ts';
export {
  captureImage,
  capturedInfo,
  drawSensorData,
  formatCaptureTimestamp,
  regeneratedImageBytes,
} from './capture.ts';
export type { Capture } from './capture.ts';
export { chunkMessage, helloMessage, metadataMessage } from './messages-out.ts';
export {
  FIRMWARE_POLICIES,
  FIRMWARE_PROFILE_DEFAULT,
  firmwarePolicy,
  firmwareProfileDescriptions,
  firmwareProfiles,
  isFirmwareProfile,
} from './profile.ts';
export type { FirmwarePolicy, FirmwareProfile } from './profile.ts';
export { mixSeed, mulberry32 } from '../random/prng.ts';

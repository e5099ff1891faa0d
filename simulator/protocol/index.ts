// The device protocol codec: pure functions, never throwing on any input, speaking both dialects (fw350, spec).

export type * from './messages.ts';
export { REJECT_CODES } from './reject.ts';
export { normaliseDeviceId, KEPT_ID_PREFIXES } from './mac.ts';
export {
  parseTopic,
  formatTopic,
  topicFor,
  serverSubscriptions,
  serverSubscriptionsFor,
  deviceSubscriptions,
  DIALECTS,
  CHANNELS,
  DEVICE_CHANNELS,
  SERVER_CHANNELS,
} from './topics.ts';
export { parseJsonPayload, repairSmartQuotes, escapeSmartQuotes } from './json.ts';
export { isSafeImageName } from './image-name.ts';
export { isStrictBase64, decodeChunkPayload } from './chunk-payload.ts';
export {
  decodeDeviceMessage,
  FIELD_ALIASES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_TOTAL_CHUNKS,
  type DecodeOptions,
  type DecodedDeviceMessage,
} from './decode-device.ts';
export { encodeDeviceMessage, type EncodeOptions, type WireMessage } from './encode-device.ts';
export { decodeServerMessage, type ServerDecodeOptions, type DecodedServerMessage } from './decode-server.ts';
export { encodeServerMessage, serverChannel, type ServerEncodeOptions } from './encode-server.ts';
export { formatWakeTime, formatClock, parseWakeTime, nextOccurrenceUtcMs, type WakeTime } from './wake-time.ts';
export {
  parseDeviceTimestamp,
  parseTimestampMs,
  formatDeviceTimestamp,
  MIN_DEVICE_YEAR,
  MAX_DEVICE_YEAR,
  type DeviceTime,
} from './timestamp.ts';

// Building the decoded device → server messages (PROTOCOL.md §3). The codec turns them into either dialect's
// wire JSON; chunk payloads are views into the image bytes, never copies.
import type { Chunk, Hello, Metadata } from '../protocol/messages.ts';
import { chunkAt, chunkCount } from './image.ts';
import type { FirmwareConfig, QueuedImage } from './state.ts';

/** HELLO: the full queue length, the first pendingListMax names (PROTOCOL.md §3). */
export function helloMessage(config: FirmwareConfig, queue: readonly QueuedImage[]): Hello {
  const listed = Math.min(queue.length, config.pendingListMax);
  const pendingList: string[] = new Array<string>(listed);
  for (let i = 0; i < listed; i++) pendingList[i] = queue[i]?.name ?? '';
  return {
    kind: 'hello',
    device_id: config.deviceId,
    status: config.dialect === 'spec' ? 'alive' : 'Alive',
    pendingImg: queue.length,
    pending_list: pendingList,
    firmware_version: config.firmwareVersion,
  };
}

export function metadataMessage(config: FirmwareConfig, image: QueuedImage): Metadata {
  const base: Metadata = {
    kind: 'metadata',
    device_id: config.deviceId,
    timestamp: image.captureTimestamp,
    image_name: image.name,
    image_id: image.imageId,
    image_size: image.sizeBytes,
    max_chunk_size: config.chunkBytes,
    total_chunk_count: chunkCount(image.sizeBytes, config.chunkBytes),
    error: 0,
    sensor_data: image.sensorData,
  };
  return config.location === undefined ? base : { ...base, location: config.location };
}

/** Chunk `chunkId` (0-based), or undefined when out of range. */
export function chunkMessage(config: FirmwareConfig, image: QueuedImage, chunkId: number): Chunk | undefined {
  const payload = chunkAt(image.bytes, config.chunkBytes, chunkId);
  if (payload === undefined) return undefined;
  return {
    kind: 'chunk',
    device_id: config.deviceId,
    image_name: image.name,
    chunk_id: chunkId,
    max_chunk_size: config.chunkBytes,
    payload,
  };
}

// Taking a picture: next flash counter value, seeded JPEG bytes, sensor readings, appended to the SD queue
// (PROTOCOL.md §1, §4 capture_image).
import type { SensorData } from '../protocol/messages.ts';
import { formatDeviceTimestamp } from '../protocol/timestamp.ts';
import type { CapturedImageInfo } from './effects.ts';
import type { TimestampStyle } from './inputs.ts';
import { drawImageSizeBytes, sha256Hex, synthesizeJpeg } from './image.ts';
import { mixSeed } from '../random/prng.ts';
import type { FirmwareConfig, PersistentState, QueuedImage } from './state.ts';

/**
 * `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds) as firmware v3.5.0 sends it, or with `unpadded` `2026-1-4 9:5:7`
 * (PROTOCOL.md §3: what a sloppy build after a failed NTP sync sends); never throws.
 */
export function formatCaptureTimestamp(ms: number, style: TimestampStyle = 'iso'): string {
  const date = new Date(Number.isFinite(ms) ? Math.floor(ms / 1000) * 1000 : 0);
  const valid = Number.isFinite(date.getTime()) ? date : new Date(0);
  if (style === 'unpadded') return formatDeviceTimestamp(valid.getTime(), 'unpadded');
  return `${valid.toISOString().slice(0, 19)}Z`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** BME680-like readings: indoor temperature °C, relative humidity %, pressure hPa, gas resistance kΩ. */
export function drawSensorData(random: () => number): SensorData {
  return {
    temperature: round1(18 + 10 * random()),
    humidity: round1(30 + 40 * random()),
    pressure: round1(990 + 40 * random()),
    gas_resistance: round1(50 + 250 * random()),
  };
}

export interface Capture {
  readonly persistent: PersistentState;
  readonly image: QueuedImage;
}

/** A new capture appended to the SD queue; the flash counter and captureSeq advance. */
export function captureImage(
  config: FirmwareConfig,
  persistent: PersistentState,
  nowMs: number,
  random: () => number,
  timestampStyle: TimestampStyle = 'iso',
): Capture {
  const imageId = persistent.flash.imageCounter + 1;
  const captureSeq = persistent.sim.captureSeqNext;
  const sizeBytes = drawImageSizeBytes(random, config.imageKbMean);
  const bytes = synthesizeJpeg(mixSeed(persistent.sim.seed, captureSeq), sizeBytes);
  const image: QueuedImage = {
    name: `image_${imageId}.jpg`,
    imageId,
    captureTimestamp: formatCaptureTimestamp(nowMs, timestampStyle),
    capturedAtMs: nowMs,
    sizeBytes,
    sha256: sha256Hex(bytes),
    bytes,
    captureSeq,
    sensorData: drawSensorData(random),
  };
  return {
    image,
    persistent: {
      flash: { imageCounter: imageId },
      sd: { queue: [...persistent.sd.queue, image] },
      sim: { ...persistent.sim, captureSeqNext: captureSeq + 1 },
    },
  };
}

export function capturedInfo(image: QueuedImage): CapturedImageInfo {
  return {
    name: image.name,
    imageId: image.imageId,
    sha256: image.sha256,
    sizeBytes: image.sizeBytes,
    captureTimestamp: image.captureTimestamp,
    capturedAtMs: image.capturedAtMs,
    captureSeq: image.captureSeq,
  };
}

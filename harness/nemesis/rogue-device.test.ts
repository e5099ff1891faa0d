// The rogue device (rogue-device.ts): what it publishes is real protocol — the victim's metadata, chunks and an
// ACK_OK, as the pipeline and the firmware decode them (scenarios/device-spoofing.test.ts runs it on a broker).
import { describe, expect, test } from 'vitest';
import { decodeDeviceMessage, decodeServerMessage, parseTopic } from '../../simulator/protocol/index.ts';
import { rogueMessages, ROGUE_IMAGE_NAME } from './rogue-device.ts';

const victim = 'B8F862F9C1C4';

describe('rogueMessages', () => {
  test("the victim's metadata and chunks of a fake image, then an ACK_OK on the victim's ack topic", () => {
    const messages = rogueMessages(victim);
    const [metadata, ...rest] = messages;
    const ack = rest.pop();
    const decodedMeta = decodeDeviceMessage(metadata!.topic, metadata!.payload);
    const meta = decodedMeta.ok ? decodedMeta.value.message : undefined;
    expect(meta?.kind === 'metadata' && meta.image_name).toBe(ROGUE_IMAGE_NAME);
    expect(meta?.device_id).toBe(victim);
    for (const chunk of rest) {
      const decoded = decodeDeviceMessage(chunk.topic, chunk.payload);
      expect(decoded.ok && decoded.value.message.kind).toBe('chunk');
    }
    const total = meta?.kind === 'metadata' ? meta.total_chunk_count : -1;
    expect(rest).toHaveLength(total);
    const topic = parseTopic(ack!.topic);
    expect(topic.ok && topic.value).toEqual({ dialect: 'fw350', deviceId: victim, channel: 'ack' });
    const decodedAck = decodeServerMessage(ack!.topic, ack!.payload);
    expect(decodedAck.ok && decodedAck.value.message.kind).toBe('ack_ok');
  });
});

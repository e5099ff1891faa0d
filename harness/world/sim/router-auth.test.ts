// The sim router's model of the embedded broker's auth on publishes (broker-auth.ts through setPublishAuthorizer):
// a device publishing as another is refused, nobody gets the message, and the publisher is cut — as aedes does.
import { describe, expect, test } from 'vitest';
import { publishRefusal, simRoleOf } from '../broker-auth.ts';
import { Router } from './router.ts';
import { recordingDevice, settle } from './test-support.ts';

const B = 'B8F862F9C1C4';
const rogue = 'AABBCCDDEEFF';

describe('router publish authorizer', () => {
  test('a device publishes as itself; one publishing as another reaches nobody and is cut', async () => {
    const router = new Router();
    const refused: string[] = [];
    router.setPublishAuthorizer((clientId, topic) => {
      const why = publishRefusal(simRoleOf(clientId), topic);
      if (why !== undefined) refused.push(`${clientId} ${topic}`);
      return why;
    });
    const pipeline = recordingDevice(router, 'camfleet-pipeline-x');
    const b = recordingDevice(router, B);
    const r = recordingDevice(router, rogue);
    await pipeline.connect(['ESP32CAM/+/data']);
    await b.connect([`ESP32CAM/${B}/ack`]);
    await r.connect();
    b.transport.publish(`ESP32CAM/${B}/data`, 'own');
    r.transport.publish(`ESP32CAM/${B}/data`, 'spoofed');
    await settle();
    expect(pipeline.got).toEqual([`ESP32CAM/${B}/data own`]);
    expect(r.lost).toHaveLength(1);
    expect(r.transport.connected).toBe(false);
    // The service answers on the device's ack topic; a device may not.
    pipeline.transport.publish(`ESP32CAM/${B}/ack`, 'ACK_OK');
    await settle();
    expect(b.got).toEqual([`ESP32CAM/${B}/ack ACK_OK`]);
    expect(refused).toEqual([`${rogue} ESP32CAM/${B}/data`]);
    expect(router.stats().refused).toBe(1);
  });

  test('simRoleOf: a MAC client id is that device, any other id serves the run', () => {
    expect(simRoleOf(B)).toEqual({ kind: 'device', mac: B });
    expect(simRoleOf('camfleet-pipeline-a-1234')).toEqual({ kind: 'service' });
    expect(simRoleOf('b8f862f9c1c4')).toEqual({ kind: 'service' }); // not as a device connects
  });
});

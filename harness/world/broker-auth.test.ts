// The embedded broker's logins and topic rules as pure decisions (broker-auth.ts).
import { describe, expect, test } from 'vitest';
import {
  BrokerAuth,
  publishRefusal,
  SERVICE_USERNAME,
  subscribeRefusal,
  urlWithCredentials,
  urlWithoutCredentials,
} from './broker-auth.ts';

const B = 'B8F862F9C1C4';
const rogue = 'AABBCCDDEEFF';

describe('broker logins', () => {
  const auth = BrokerAuth.random();
  test('a device logs in as its MAC with the password this run gives it; nothing else does', () => {
    const b = auth.device(B);
    expect(b.username).toBe(B);
    expect(auth.authenticate(b.username, Buffer.from(b.password))).toEqual({ kind: 'device', mac: B });
    expect(auth.authenticate(B, auth.device(rogue).password)).toBeUndefined(); // another device's password
    expect(auth.authenticate(B, 'guess')).toBeUndefined();
    expect(auth.authenticate(B, undefined)).toBeUndefined();
    expect(auth.authenticate(undefined, undefined)).toBeUndefined();
    expect(auth.authenticate('b8:f8:62:f9:c1:c4', b.password)).toBeUndefined(); // the MAC as the broker knows it only
    expect(BrokerAuth.random().authenticate(b.username, b.password)).toBeUndefined(); // another run's secret
  });
  test('the service account; a thread given the secret derives the same logins', () => {
    expect(auth.authenticate(SERVICE_USERNAME, auth.service.password)).toEqual({ kind: 'service' });
    expect(auth.authenticate(SERVICE_USERNAME, auth.device(B).password)).toBeUndefined();
    const again = BrokerAuth.fromSecret(auth.secretHex);
    expect(again.device(B)).toEqual(auth.device(B));
    expect(again.service).toEqual(auth.service);
  });
});

describe('topic rules', () => {
  const device = { kind: 'device', mac: B } as const;
  const service = { kind: 'service' } as const;
  test('a device publishes on its own status and data, in either dialect, and nowhere else', () => {
    for (const topic of [`ESP32CAM/${B}/status`, `ESP32CAM/${B}/data`, `device/${B}/data`])
      expect(publishRefusal(device, topic), topic).toBeUndefined();
    expect(publishRefusal(device, `ESP32CAM/${rogue}/data`)).toMatch(/may not publish as AABBCCDDEEFF/);
    expect(publishRefusal(device, `ESP32CAM/${B}/ack`)).toMatch(/does not publish on its ack topic/);
    expect(publishRefusal(device, 'anything/else')).toMatch(/only on its own status\/data/);
  });
  test('a device subscribes to its own cmd and ack, never a wildcard', () => {
    expect(subscribeRefusal(device, `ESP32CAM/${B}/cmd`)).toBeUndefined();
    expect(subscribeRefusal(device, `device/${B}/ack`)).toBeUndefined();
    expect(subscribeRefusal(device, `ESP32CAM/${rogue}/ack`)).toMatch(/may not subscribe to AABBCCDDEEFF's ack/);
    expect(subscribeRefusal(device, 'ESP32CAM/+/data')).toMatch(/wildcard/);
    expect(subscribeRefusal(device, '#')).toMatch(/wildcard/);
    expect(subscribeRefusal(device, `ESP32CAM/${B}/data`)).toMatch(/does not subscribe to its data topic/);
  });
  test('the service answers on cmd/ack, never speaks as a device, subscribes to anything', () => {
    expect(publishRefusal(service, `ESP32CAM/${B}/ack`)).toBeUndefined();
    expect(publishRefusal(service, `device/${B}/cmd`)).toBeUndefined();
    expect(publishRefusal(service, `ESP32CAM/${B}/data`)).toMatch(/only on device cmd\/ack/);
    expect(subscribeRefusal(service, 'ESP32CAM/+/data')).toBeUndefined();
  });
  test('credentials in and out of a URL', () => {
    const url = urlWithCredentials('mqtt://127.0.0.1:1883', { username: 'camfleet-service', password: 'p@ss/w' });
    expect(new URL(url).username).toBe('camfleet-service');
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss/w');
    expect(urlWithoutCredentials(url)).toBe('mqtt://127.0.0.1:1883');
  });
});

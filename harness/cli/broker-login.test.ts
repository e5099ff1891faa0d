// simulate against a broker of the user's with a login and TLS (issue 11): a private Mosquitto with a password
// file and a certificate from a CA of the test's making. The run passes with the user name, password and CA; the
// password appears nowhere in what it prints; without the CA, or with a wrong password, it stops at once, saying why.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { privateMosquittoMissing, startPrivateMosquitto, type PrivateMosquitto } from '../../test/private-mosquitto.ts';
import { runCli } from '../../test/run-cli.ts';

const missing = privateMosquittoMissing();
let broker: PrivateMosquitto | undefined;
beforeAll(async () => {
  if (missing === undefined) broker = await startPrivateMosquitto();
}, 60_000);
afterAll(async () => {
  await broker?.stop();
});

const server = primaryTarget().server;
const dbEnv = server?.kind === 'external' ? { DATABASE_URL: server.url } : {};

describe.skipIf(missing !== undefined)(
  `simulate on a broker with a login and TLS${missing === undefined ? '' : ` — SKIPPED: ${missing}`}`,
  () => {
    const small = ['--devices', '4', '--images', '1', '--image-kb', '8', '--faults', 'none', '--seed', '3'];
    test('user name, password and CA: the run passes and the password is printed nowhere', async () => {
      const b = broker!;
      const r = await runCli('simulate.ts', [...small, '--broker-url', `mqtts://127.0.0.1:${b.port}`], {
        ...dbEnv,
        MQTT_USERNAME: b.username,
        MQTT_PASSWORD: b.password,
        MQTT_CA_FILE: b.caFile,
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/verdict: PASS/);
      expect(r.stdout).toContain(`broker=mqtts://${b.username}:***@127.0.0.1:${b.port}`);
      expect(r.stdout + r.stderr).not.toContain(b.password);
      expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(b.password));
    });

    test('without the CA, or with a wrong password: exit 2 at once, naming the cause, no password', async () => {
      const b = broker!;
      const url = `mqtts://127.0.0.1:${b.port}`;
      const noCa = await runCli('simulate.ts', [
        ...small,
        '--broker-url',
        url,
        '--mqtt-username',
        b.username,
        '--mqtt-password',
        b.password,
      ]);
      expect(noCa.code).toBe(2);
      expect(noCa.stderr).toMatch(
        /cannot connect to the MQTT broker at 127\.0\.0\.1:\d+ \(MQTT_URL\): .*(self[- ]signed|certificate)/i,
      );
      const wrong = await runCli('simulate.ts', [
        ...small,
        '--broker-url',
        url,
        '--mqtt-username',
        b.username,
        '--mqtt-password',
        'not-it',
        '--mqtt-ca-file',
        b.caFile,
      ]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/Not authorized|Bad username or password/i);
      expect(noCa.stdout + noCa.stderr + wrong.stdout + wrong.stderr).not.toContain(b.password);
    });

    test('usage: a CA for a plain mqtt:// broker, a password without a user, a login for the embedded broker', async () => {
      const b = broker!;
      const plain = await runCli('simulate.ts', [
        ...small,
        '--broker-url',
        'mqtt://127.0.0.1:1883',
        '--mqtt-ca-file',
        b.caFile,
      ]);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toContain('--mqtt-ca-file (MQTT_CA_FILE) is for a TLS broker');
      const noUser = await runCli('simulate.ts', [
        ...small,
        '--broker-url',
        'mqtt://127.0.0.1:1883',
        '--mqtt-password',
        'x',
      ]);
      expect(noUser.code).toBe(2);
      expect(noUser.stderr).toContain('--mqtt-password (MQTT_PASSWORD) needs --mqtt-username');
      const embedded = await runCli('simulate.ts', [...small, '--mqtt-username', 'u'], { MQTT_URL: undefined });
      expect(embedded.code).toBe(2);
      expect(embedded.stderr).toContain('the embedded broker has logins of its own');
    });
  },
);

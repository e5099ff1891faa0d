// A Mosquitto of the test's own, on a free port, with what a user's production broker has and the machine's
// Mosquitto (127.0.0.1:1883, anonymous) has not: TLS with a CA of the test's making (openssl) and a password file
// (mosquitto_passwd). Undefined when the binaries are missing, so the caller can skip and say why.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freePort } from '../harness/world/free-port.ts';
import { join } from 'node:path';
import { tempDir } from './temp-dir.ts';

export interface PrivateMosquitto {
  readonly port: number;
  readonly caFile: string;
  readonly username: string;
  readonly password: string;
  stop(): Promise<void>;
}

const tools = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto_passwd', '/usr/bin/openssl'];

/** Why a private Mosquitto cannot be started here, or undefined. */
export function privateMosquittoMissing(): string | undefined {
  for (const tool of tools) {
    try {
      execFileSync('test', ['-x', tool]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

export async function startPrivateMosquitto(): Promise<PrivateMosquitto> {
  const dir = tempDir('camfleet-mosquitto-');
  const openssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=camfleet test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
  const username = 'fleet-user';
  const password = 'pa55:w@rd/secret';
  execFileSync('/usr/bin/mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), username, password], { stdio: 'pipe' });
  const port = await freePort();
  const runningAsRoot = process.getuid?.() === 0;
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      // As root Mosquitto would drop to the mosquitto user, who cannot read the test's private directory.
      ...(runningAsRoot ? ['user root'] : []),
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'server.pem')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      'persistence false',
      'max_queued_messages 100000',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'pipe' });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  // Listening once a TCP connect succeeds.
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000; // wall time: the broker's start on this machine
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited at start: ${output}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    caFile: join(dir, 'ca.pem'),
    username,
    password,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// Headless Chromium for browser tests (report.html): Debian's `chromium` driven by playwright-core. Where it is
// missing, the test setup installs it (root with apt-get only, as on CI machines); otherwise the tests that need it
// are skipped, and say why.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.CAMFLEET_CHROMIUM || '/usr/bin/chromium';

/** Flags for a sandbox-less, GPU-less container, and no background traffic (the page must need no network). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--no-first-run',
];

function aptInstall(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: install it with `sudo apt-get install chromium`';
  if (!existsSync('/usr/bin/apt-get')) return 'no apt-get on this machine';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      env,
      stdio: 'ignore',
      timeout: 600_000,
    });
  try {
    install();
  } catch {
    try {
      // The package lists may be stale on a fresh machine.
      execFileSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 300_000 });
      install();
    } catch (error) {
      return `apt-get install chromium failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
  }
  return undefined;
}

/** The browser's path, installing it first where that is possible; or why there is none. */
export function findChromium(): { readonly path: string } | { readonly path: undefined; readonly reason: string } {
  if (existsSync(chromiumPath)) return { path: chromiumPath };
  if (process.env.CAMFLEET_CHROMIUM)
    return { path: undefined, reason: `CAMFLEET_CHROMIUM=${chromiumPath} does not exist` };
  process.stderr.write(`${chromiumPath} is missing: installing Debian's chromium for the browser tests…\n`);
  const failed = aptInstall();
  if (failed === undefined && existsSync(chromiumPath)) return { path: chromiumPath };
  return { path: undefined, reason: `no Chromium at ${chromiumPath} (${failed ?? 'the install did not provide it'})` };
}

export function launchChromium(path: string): Promise<Browser> {
  return chromium.launch({ executablePath: path, args: chromiumArgs });
}

// The open-files budget of a live run (fd-budget.ts): pure, with /proc's text given.
import { describe, expect, test } from 'vitest';
import { concurrencyWithinFds, FDS_RESERVED, openFilesLimit } from './fd-budget.ts';

const limits = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax open files            ${soft}                ${hard}                files     \n`;

describe('open files', () => {
  test('reads the soft limit; unlimited or unreadable is no limit', () => {
    expect(openFilesLimit(() => limits('20000', '20000'))).toBe(20000);
    expect(openFilesLimit(() => limits('1024', '4096'))).toBe(1024);
    expect(openFilesLimit(() => limits('unlimited', 'unlimited'))).toBeUndefined();
    expect(
      openFilesLimit(() => {
        throw new Error('no /proc');
      }),
    ).toBeUndefined();
  });

  test('10,000 awake devices with the embedded broker (2 sockets each) do not fit in 20,000: capped, and said why', () => {
    const r = concurrencyWithinFds(10_000, 2, 20_000);
    expect(r.concurrency).toBe((20_000 - FDS_RESERVED) / 2);
    expect(r.capped).toMatch(
      /^devices awake at once capped at 9750 \(asked 10000\): .*20000 files.*2 sockets.*ulimit -n/,
    );
  });

  test('on an external broker (1 socket each) they fit; no limit known, nothing capped', () => {
    expect(concurrencyWithinFds(10_000, 1, 20_000)).toEqual({ concurrency: 10_000 });
    expect(concurrencyWithinFds(10_000, 2, undefined)).toEqual({ concurrency: 10_000 });
    expect(concurrencyWithinFds(5, 2, 1_000)).toEqual({ concurrency: 5 });
    expect(concurrencyWithinFds(5, 2, 10).concurrency).toBe(1);
  });
});

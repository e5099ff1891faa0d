import { describe, expect, test } from 'vitest';
import { planSeedDuplicates } from './seed-duplicates.ts';

describe('seed-duplicates plan', () => {
  test('is deterministic from the seed and differs between seeds', () => {
    expect(planSeedDuplicates({ devices: 10, seed: 7 })).toEqual(planSeedDuplicates({ devices: 10, seed: 7 }));
    expect(planSeedDuplicates({ devices: 10, seed: 7 })).not.toEqual(planSeedDuplicates({ devices: 10, seed: 8 }));
  });

  test('has production-shaped duplicates: 41 copies of image_1.jpg, 13 groups of 78 rows, ties and NULL updated_at', () => {
    const { macs, rows } = planSeedDuplicates({ devices: 20, seed: 1 });
    expect(macs).toHaveLength(20);
    expect(new Set(macs).size).toBe(20);
    for (const mac of macs) expect(mac).toMatch(/^[0-9A-F]{12}$/);
    const groups = new Map<string, typeof rows>();
    for (const row of rows)
      groups.set(`${row.device}|${row.name}`, [...(groups.get(`${row.device}|${row.name}`) ?? []), row]);
    const duplicates = [...groups.values()].filter((g) => g.length > 1);
    expect(duplicates).toHaveLength(13);
    expect(duplicates.reduce((n, g) => n + g.length, 0)).toBe(78);
    const big = groups.get('0|image_1.jpg') ?? [];
    expect(big).toHaveLength(41);
    expect(new Set(big.map((r) => r.status)).size).toBe(4);
    const dupRows = duplicates.flat();
    expect(dupRows.some((r) => r.updatedAtMs === null)).toBe(true);
    const tied = duplicates.some((g) => {
      const stamps = g.map((r) => r.updatedAtMs).filter((u) => u !== null);
      return new Set(stamps).size < stamps.length;
    });
    expect(tied).toBe(true);
  });
});

// The one declaration of the fault fields: it covers the plan exactly, its flags do not collide, and each kind fits
// the values a plan holds (the type checks this too; these assertions keep it true for values built at run time).
import { describe, expect, test } from 'vitest';
import { faultFields, faultFieldsOf, faultGroups, isNumericKind, numberRules, obeysRule } from './fault-fields.ts';
import { faultMixes } from './fault-plan.ts';

describe('fault fields', () => {
  test('declare exactly the fields of a plan, group by group, in the plan order', () => {
    const none = faultMixes.none;
    expect(faultFieldsOf('device').map((f) => f.key)).toEqual(Object.keys(none.device));
    expect(faultFieldsOf('network').map((f) => f.key)).toEqual(Object.keys(none.network));
    expect(faultFieldsOf('server').map((f) => f.key)).toEqual(Object.keys(none.server));
    expect(faultFieldsOf('webhook').map((f) => f.key)).toEqual(Object.keys(none.webhook));
    expect(faultFieldsOf('migration').map((f) => f.key)).toEqual(['at']);
    expect(faultGroups).toEqual(['device', 'network', 'server', 'webhook', 'migration']);
    // Summed group by group: two groups may name a field alike (network.duplicateRate, webhook.duplicateRate).
    const groups = [none.device, none.network, none.server, none.webhook];
    expect(faultFields).toHaveLength(groups.reduce((n, g) => n + Object.keys(g).length, 0) + 1);
  });

  test('every flag and alias is a distinct kebab-case name', () => {
    const names = faultFields.flatMap((f) => [f.flag, ...(f.alias ? [f.alias] : [])]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    // `--faults` (the mix) is the command line's own flag.
    expect(names).not.toContain('faults');
  });

  test("each field's kind fits the value the chaos mix gives it", () => {
    const chaos = faultMixes.chaos as unknown as Record<string, Record<string, unknown>>;
    for (const f of faultFields.filter((x) => x.group !== 'migration')) {
      const value = chaos[f.group]?.[f.key];
      if (isNumericKind(f.kind)) expect(obeysRule(numberRules[f.kind].file, value), f.key).toBe(true);
      else if (f.kind === 'switch') expect(typeof value, f.key).toBe('boolean');
      else expect(Array.isArray(value), f.key).toBe(true);
    }
  });

  test('number rules: bounds inclusive, whole numbers where asked, nothing that is not a finite number', () => {
    const rate = numberRules.rate.flag;
    expect([0, 0.5, 1].map((v) => obeysRule(rate, v))).toEqual([true, true, true]);
    expect([-0.1, 1.1, Number.NaN, '0.5', undefined].map((v) => obeysRule(rate, v))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    const wakes = numberRules.count.file;
    expect([1, 100, 0, 101, 2.5].map((v) => obeysRule(wakes, v))).toEqual([true, true, false, false, false]);
    const flagMs = numberRules.ms.flag;
    expect([0, 10_000_000, Infinity, -1, 1.5].map((v) => obeysRule(flagMs, v))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

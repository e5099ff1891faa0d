// What judge.ts reads off a history without the database: whether the run planned a mid-run migration (M1 owed).
import { expect, test } from 'vitest';
import { History } from '../history/history.ts';
import { plannedMigration } from './judge.ts';

test('a history that planned the migration owes M1; one that planned other faults does not', () => {
  const history = new History(() => 0);
  history.append({ type: 'fault_planned', planId: 1, fault: 'pipeline_restart', trigger: '25%' });
  expect(plannedMigration(history.events)).toBe(false);
  history.append({ type: 'fault_planned', planId: 2, fault: 'migration', trigger: '2-in-flight' });
  expect(plannedMigration(history.events)).toBe(true);
});

// The fleet knows nothing of faults (ARCHITECTURE.md §8, issue 8 "Faults inside the workload"): no file under
// harness/fleet — tests and test support included — imports harness/nemesis, and the fleet imports only its own
// folder, simulator/, harness/history and harness/world. Device faults reach a device through the effect filter a
// run puts around it (effect-filter.ts). Read from the import statements with TypeScript's own scanner, so imports in
// comments and strings do not count; `import type`, re-exports and `import()` do. (When harness/layering.test.ts
// lands, this rule belongs there.)
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fleetFolder = 'harness/fleet';
const allowed = ['harness/fleet', 'simulator', 'harness/history', 'harness/world'];

const within = (file: string, folder: string) => file === folder || file.startsWith(folder + '/');

/** File → the repository files it imports (relative imports only), paths relative to the repository root. */
function importsUnder(folder: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const file = relative(root, path).split(sep).join('/');
        const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
        const targets = importedFiles
          .map((f) => f.fileName)
          .filter((spec) => spec.startsWith('.'))
          .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)));
        graph.set(file, targets);
      }
    }
  };
  walk(join(root, folder));
  return graph;
}

/** One line per import of a file under harness/fleet that reaches outside what the fleet may know. */
function forbiddenImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (within(target, 'harness/nemesis')) problems.push(`${file} imports ${target} (the fleet knows no faults)`);
      else if (!allowed.some((folder) => within(target, folder))) problems.push(`${file} imports ${target}`);
    }
  }
  return problems.sort();
}

describe('harness/fleet imports', () => {
  const graph = importsUnder(fleetFolder);

  test('reads the folder: its files and their imports are found', () => {
    expect(graph.get('harness/fleet/fleet.ts')).toContain('harness/fleet/device-driver.ts');
    expect(graph.get('harness/fleet/device-driver.ts')).toContain('harness/fleet/effect-filter.ts');
  });

  test('no file under harness/fleet imports harness/nemesis, or anything but fleet, simulator, history and world', () => {
    expect(forbiddenImports(graph)).toEqual([]);
  });

  test('the rule catches an import of the nemesis (type-only too) and of another part of the harness', () => {
    const bad = new Map([
      ['harness/fleet/device-driver.ts', ['harness/nemesis/device-nemesis.ts', 'simulator/firmware/index.ts']],
      ['harness/fleet/test-support.ts', ['harness/nemesis/fault-plan.ts', 'harness/pipeline/index.ts']],
      ['harness/fleet/fleet.ts', ['harness/world/clock.ts', 'harness/history/history.ts']],
    ]);
    expect(forbiddenImports(bad)).toEqual([
      'harness/fleet/device-driver.ts imports harness/nemesis/device-nemesis.ts (the fleet knows no faults)',
      'harness/fleet/test-support.ts imports harness/nemesis/fault-plan.ts (the fleet knows no faults)',
      'harness/fleet/test-support.ts imports harness/pipeline/index.ts',
    ]);
    const scanned = ts.preProcessFile(
      "import type { DeviceFaults } from '../nemesis/fault-plan.ts';\n// import '../nemesis/x.ts'\n",
      true,
      true,
    );
    expect(scanned.importedFiles.map((f) => f.fileName)).toEqual(['../nemesis/fault-plan.ts']);
  });
});

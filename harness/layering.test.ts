// Which code may import which (ARCHITECTURE.md §8, issue 8 "tangles"): the firmware at the bottom, then the parts
// of a run, then the run and its report, then the scenarios, then the commands. A layer imports its own and lower
// layers only, and no file imports itself back through others. Read from the import statements of every .ts file
// under simulator/, harness/, scenarios/ and lib/ (tests included), so a new upward import or circle fails here, named.
// Inside a layer, a few parts are narrowed further (`narrowed`: harness/fleet never imports harness/nemesis).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

/** Lowest first. A folder prefix (matched on `/` boundaries) per entry; a file must fall in exactly one. */
const layers: readonly { readonly name: string; readonly folders: readonly string[] }[] = [
  { name: 'simulator', folders: ['simulator'] },
  {
    name: 'parts of a run',
    folders: [
      'harness/history',
      'harness/world',
      'harness/db',
      'harness/fleet',
      'harness/pipeline',
      'harness/nemesis',
      'harness/checker',
      // The webhook forwarder (--forward-webhook): a run's second consumer of the device messages, beside the pipeline.
      'harness/forwarder',
      // Database commands of `npm run migrate` (duplicate statistics, preview, restore…): they need only harness/db.
      'harness/migrate',
    ],
  },
  { name: 'run and report', folders: ['harness/run', 'harness/report'] },
  { name: 'scenarios', folders: ['scenarios'] },
  // Explore generates cases, runs them as scenario specs and writes the smallest failing one as a scenario file.
  { name: 'exploration', folders: ['harness/explore'] },
  { name: 'commands', folders: ['harness/cli'] },
  // The library (import … from 'camfleet') calls the commands' own parsers, so it sits above them.
  { name: 'library', folders: ['lib'] },
];
const scanned = ['simulator', 'harness', 'scenarios', 'lib'];
/** Inside a layer, parts that may import only some of the others (ARCHITECTURE.md §8), tests included. */
const narrowed: readonly { readonly folder: string; readonly mayImport: readonly string[]; readonly why: string }[] = [
  {
    folder: 'harness/fleet',
    mayImport: ['harness/fleet', 'simulator', 'harness/history', 'harness/world'],
    // Issue 8 "Faults inside the workload": harness/fleet imported harness/nemesis.
    why: 'the fleet knows the firmware, history and world, no faults (those come as an effect filter around a device)',
  },
];
/** Outside the layers: schema/ (the SQL and its runner, importing none of ours), below everything; test/ (shared
 *  test support), which only tests and test-support files may import. */
const belowAll = ['schema'];
const testSupport = ['test'];
const thisFile = 'harness/layering.test.ts';

/** File → the repository files it imports (relative imports of .ts files only), paths relative to the root. */
type ImportGraph = ReadonlyMap<string, readonly string[]>;

const within = (file: string, folder: string) => file === folder || file.startsWith(folder + '/');

function layerOf(file: string): number | undefined {
  const i = layers.findIndex((l) => l.folders.some((f) => within(file, f)));
  return i < 0 ? undefined : i;
}

const isTestSupport = (file: string) => /\.test\.ts$|(^|\/)test-[^/]*\.ts$/.test(file);

/** One line per import that goes against the layers, or per file no layer claims. */
function layerViolations(graph: ImportGraph): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    if (file === thisFile) continue;
    const from = layerOf(file);
    if (from === undefined) {
      problems.push(`${file} is in no layer (add its folder to harness/layering.test.ts)`);
      continue;
    }
    for (const target of imports) {
      if (belowAll.some((f) => within(target, f))) continue;
      if (testSupport.some((f) => within(target, f))) {
        if (!isTestSupport(file)) problems.push(`${file} imports test support ${target}`);
        continue;
      }
      const to = layerOf(target);
      if (to === undefined) problems.push(`${file} imports ${target}, which is in no layer`);
      else if (to > from)
        problems.push(`${file} (${layers[from]?.name}) imports ${target} (${layers[to]?.name}, a higher layer)`);
    }
  }
  return problems.sort();
}

/** One line per import out of a narrowed part (`narrowed`) into a folder it may not import. */
function narrowedViolations(graph: ImportGraph): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    for (const part of narrowed) {
      if (!within(file, part.folder)) continue;
      for (const target of imports) {
        if (belowAll.some((f) => within(target, f)) || testSupport.some((f) => within(target, f))) continue;
        if (!part.mayImport.some((f) => within(target, f))) problems.push(`${file} imports ${target}: ${part.why}`);
      }
    }
  }
  return problems.sort();
}

/** Every set of files that import each other in a circle (strongly connected components of two or more, or a
 *  file importing itself), each sorted, found with Tarjan's algorithm. */
function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** The import graph of the .ts files under `folders` of `root`, read with TypeScript's own import scanner (so
 *  imports in comments and strings do not count; `import type`, re-exports and `import()` do). */
function readImportGraph(root: string, folders: readonly string[]): ImportGraph {
  const graph = new Map<string, string[]>();
  const toPosix = (p: string) => p.split(sep).join('/');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.ts')) {
        const file = toPosix(relative(root, path));
        const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
        const targets = importedFiles
          .map((f) => f.fileName)
          .filter((spec) => spec.startsWith('.') && spec.endsWith('.ts'))
          .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)));
        graph.set(file, [...new Set(targets)]);
      }
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return graph;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('layering', () => {
  const graph = readImportGraph(root, scanned);

  test('reads the tree: every folder of the layers has files, and imports are found', () => {
    for (const folder of layers.flatMap((l) => l.folders))
      expect(
        [...graph.keys()].some((f) => within(f, folder)),
        folder,
      ).toBe(true);
    expect(graph.get('harness/db/server.ts')).toContain('harness/db/embedded-server.ts');
  });

  test('no layer imports a higher one', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  test('harness/fleet imports only the fleet, simulator, history and world: never harness/nemesis', () => {
    expect(graph.get('harness/fleet/device-driver.ts')).toContain('harness/fleet/effect-filter.ts');
    expect(narrowedViolations(graph)).toEqual([]);
  });

  test('no file imports itself back through others (harness/db had server.ts ↔ embedded/external-server.ts)', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  test('the rules catch an upward import, a file outside the layers, test support in code, a narrowed part importing out, and a circle', () => {
    const bad: ImportGraph = new Map([
      ['harness/run/reproduce.ts', ['harness/cli/fault-options.ts', 'harness/nemesis/trigger.ts']],
      ['harness/cli/fault-options.ts', ['harness/nemesis/trigger.ts']],
      ['harness/nemesis/trigger.ts', []],
      ['harness/elsewhere/x.ts', []],
      ['harness/pipeline/store.ts', ['test/databases.ts', 'schema/runner.ts']],
      ['harness/pipeline/test-support.ts', ['test/databases.ts']],
      ['harness/db/server.ts', ['harness/db/embedded-server.ts']],
      ['harness/db/embedded-server.ts', ['harness/db/server.ts']],
      ['harness/fleet/device-driver.ts', ['harness/nemesis/device-nemesis.ts', 'harness/world/clock.ts']],
      ['harness/fleet/test-support.ts', ['harness/fleet/fleet.ts', 'test/databases.ts', 'harness/pipeline/index.ts']],
    ]);
    expect(layerViolations(bad)).toEqual([
      'harness/elsewhere/x.ts is in no layer (add its folder to harness/layering.test.ts)',
      'harness/pipeline/store.ts imports test support test/databases.ts',
      'harness/run/reproduce.ts (run and report) imports harness/cli/fault-options.ts (commands, a higher layer)',
    ]);
    expect(narrowedViolations(bad)).toEqual([
      'harness/fleet/device-driver.ts imports harness/nemesis/device-nemesis.ts: the fleet knows the firmware, history and world, no faults (those come as an effect filter around a device)',
      'harness/fleet/test-support.ts imports harness/pipeline/index.ts: the fleet knows the firmware, history and world, no faults (those come as an effect filter around a device)',
    ]);
    expect(importCycles(bad)).toEqual([['harness/db/embedded-server.ts', 'harness/db/server.ts']]);
  });
});

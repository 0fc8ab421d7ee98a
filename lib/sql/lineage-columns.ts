/** Columns as lineage sees them while it walks a query, and how they combine. */
import type { ColumnLineage, OutputLineage } from "./types";

/** A column as a query sees it: its name and what may flow into it. */
export interface Col {
  name: string;
  sources: Set<string>;
  unknown: boolean;
  /** Stands for any number of columns (a `*` over something whose width is not known). */
  spread?: boolean;
}

export const clean = (name = "?column?"): Col => ({ name, sources: new Set(), unknown: false });
export const opaque = (name = "?column?"): Col => ({ name, sources: new Set(), unknown: true });

/** What a name standing for either of two statements may return. */
export function mergeOutputs(a: OutputLineage, b: OutputLineage): OutputLineage {
  const one = (x: ColumnLineage, y: ColumnLineage): ColumnLineage => ({ ...(x.name ? { name: x.name } : {}), ...toLineage(merge(fromLineage(x), fromLineage(y))) });
  const all = one(a.all, b.all);
  if (!a.columns || !b.columns || a.columns.length !== b.columns.length) return { all };
  return { columns: a.columns.map((c, i) => one(c, b.columns![i])), all };
}

export function fromLineage(c: ColumnLineage): Col {
  return { name: "", sources: new Set(c.sources), unknown: c.unknown === true };
}

export function finish(cols: Col[]): OutputLineage {
  const all = toLineage(unionAll(cols));
  return cols.some((c) => c.spread) ? { all } : { columns: cols.map((c) => ({ name: c.name, ...toLineage(c) })), all };
}

export function toLineage(c: Col): ColumnLineage {
  const sources = [...c.sources].sort();
  return c.unknown ? { sources, unknown: true } : { sources };
}

export function merge(a: Col, b: Col): Col {
  if (b.sources.size === 0 && !b.unknown) return a;
  return { name: a.name, sources: new Set([...a.sources, ...b.sources]), unknown: a.unknown || b.unknown, spread: a.spread };
}

export function unionAll(cols: Col[]): Col {
  return cols.reduce((acc, c) => merge(acc, c), clean());
}

export function named(name: string, c: Col): Col {
  return { ...c, name, spread: false };
}

export function spreadOf(c: Col): Col {
  return { ...c, spread: true };
}

/** Set operations: column i carries what column i of either side does. */
export function zipUnion(a: Col[], b: Col[]): Col[] {
  if (a.length !== b.length || a.some((c) => c.spread) || b.some((c) => c.spread)) return [spreadOf(unionAll([...a, ...b]))];
  return a.map((c, i) => merge(c, b[i]));
}

export function renamed(cols: Col[], names: string[] | undefined): Col[] {
  if (!names || names.length === 0) return cols;
  return cols.map((c, i) => (i < names.length && !c.spread ? named(names[i], c) : c));
}

export function find(cols: Col[], name: string): Col | undefined {
  return cols.find((c) => c.name === name);
}

export function commonNames(a: Col[], b: Col[]): string[] | undefined {
  if (a.some((c) => c.spread) || b.some((c) => c.spread)) return undefined;
  return a.map((c) => c.name).filter((n) => b.some((c) => c.name === n));
}

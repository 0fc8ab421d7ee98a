/**
 * Mutations of a valid JSON body, in two layers: of the value (wrong types, missing and extra
 * fields, huge strings and arrays, deep nesting, numbers at the edges, unicode) and of its bytes
 * (duplicate keys, number literals JSON.stringify never writes, invalid UTF-8, truncation, padding
 * past the size limits). Every choice comes from the Rng, so a seed and an index make the same body.
 */
import type { Rng } from "./rng";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const EDGE_STRINGS = ["", " ", "\u0000", "a\u0000b", "NaN", "Infinity", "-Infinity", "1e309", "-1", "0", "-5m", "0s", "1.5h", "1e3s", "99999999999999999999d", "9007199254740993s", " 15m ", "15 m", "15M", "15min", "١٥m", "\ud800", "\udfff", "💥".repeat(40), "\u202e", "null", "undefined", "true", "[]", "{}", "__proto__", "constructor", "r_0", "r_", "r_deadbeef", "../../etc/passwd", "%00", "'; drop table x; --", "*", "public.*", "demo\u0000"];
const EDGE_NUMBERS = [0, -0, -1, 1, 1.5, -1.5, 0.1, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 32, 2 ** 53 + 2, -(2 ** 53) - 2, 15, 900];
const EXTRA_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "extra", "", "\u0000", "kinds", "access", "duration", "resource", "id", "jsonrpc"];

/** A value of a random shape, some of them large. */
export function weirdValue(rng: Rng, depth = 0): Json {
  switch (rng.weighted({ str: 5, num: 3, lit: 2, arr: 2, obj: 2, huge: 1, deep: 1, big: 1 })) {
    case "str":
      return rng.pick(EDGE_STRINGS);
    case "num":
      return rng.pick(EDGE_NUMBERS);
    case "lit":
      return rng.pick([null, true, false]);
    case "arr":
      return depth > 3 ? [] : Array.from({ length: rng.int(0, 4) }, () => weirdValue(rng, depth + 1));
    case "obj":
      return depth > 3 ? {} : Object.fromEntries(Array.from({ length: rng.int(0, 3) }, () => [rng.pick(EXTRA_KEYS), weirdValue(rng, depth + 1)]));
    case "huge":
      return rng.pick(["x", "é", "\u0000", "💥", "a,"]).repeat(rng.pick([1_000, 20_000, 200_000, 1_200_000]));
    case "deep":
      // Deeper nesting is made in the bytes (mutateBytes): JSON.stringify overflows the stack past a few thousand.
      return nest(rng.int(50, 1_000), rng.chance(0.5));
    case "big":
      return Array.from({ length: rng.pick([100, 10_000, 60_000]) }, (_, i) => (rng.chance(0.5) ? i : "select"));
  }
  return null;
}

function nest(depth: number, arrays: boolean): Json {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
}

/** Every path to a value inside `root` (the root itself is []). */
function paths(root: Json, at: string[] = [], out: string[][] = []): string[][] {
  out.push(at);
  // Deep nesting made by an earlier mutation is not walked into: a few hundred paths are plenty.
  if (out.length > 200 || at.length > 12) return out;
  if (Array.isArray(root)) root.forEach((v, i) => paths(v, [...at, String(i)], out));
  else if (root !== null && typeof root === "object") for (const [k, v] of Object.entries(root)) paths(v, [...at, k], out);
  return out;
}

function parentOf(root: Json, path: string[]): { parent: Json[] | Record<string, Json>; key: string } | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string, Json>)[key];
  return node !== null && typeof node === "object" ? { parent: node, key: path[path.length - 1] } : undefined;
}

/** One change to the value; returns the new root and what was done. */
export function mutateValue(rng: Rng, value: Json): { value: Json; note: string } {
  // A JSON round trip, not structuredClone: that one overflows the stack on a deep nesting.
  const root = JSON.parse(JSON.stringify(value)) as Json;
  const all = paths(root);
  const path = rng.pick(all);
  const at = path.length === 0 ? "the body" : path.join(".");
  if (path.length === 0 || rng.chance(0.05)) {
    const v = rng.chance(0.3) ? [root] : weirdValue(rng);
    return { value: v, note: `body replaced by a ${Array.isArray(v) ? "array" : typeof v}` };
  }
  const { parent, key } = parentOf(root, path)!;
  const slot = parent as Record<string, Json>;
  switch (rng.weighted({ replace: 6, drop: 2, extra: 2, wrap: 1, numberish: 1 })) {
    case "replace":
      slot[key] = weirdValue(rng);
      return { value: root, note: `${at} replaced` };
    case "drop":
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete slot[key];
      return { value: root, note: `${at} dropped` };
    case "extra": {
      const extraKey = rng.pick(EXTRA_KEYS);
      const target = slot[key] !== null && typeof slot[key] === "object" && !Array.isArray(slot[key]) ? (slot[key] as Record<string, Json>) : slot;
      // defineProperty, so "__proto__" becomes an own key JSON.stringify writes out.
      Object.defineProperty(target, extraKey, { value: weirdValue(rng), enumerable: true, writable: true, configurable: true });
      return { value: root, note: `extra key ${JSON.stringify(extraKey)} near ${at}` };
    }
    case "wrap":
      slot[key] = rng.chance(0.5) ? [slot[key]] : { value: slot[key] };
      return { value: root, note: `${at} wrapped` };
    case "numberish":
      slot[key] = typeof slot[key] === "string" ? rng.pick(EDGE_NUMBERS) : JSON.stringify(slot[key]);
      return { value: root, note: `${at} string↔number` };
  }
  return { value: root, note: "unchanged" };
}

const LITERALS = ["1e309", "-1e309", "NaN", "Infinity", "-0", "01", "1.0e-400", "0x10", "+1", ".5", "1.", "undefined", "'x'", "\"\\ud800\"", "\"\\u0000\"", "\"\\x41\"", "\"\\", "[,]", "{,}", "tru", "nul"];
const INVALID_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc0, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xef, 0xbb, 0xbf])];

/** One change to the serialized bytes; returns the new bytes and what was done. */
export function mutateBytes(rng: Rng, bytes: Buffer, limit: number): { bytes: Buffer; note: string } {
  const text = bytes.toString("latin1");
  const at = rng.int(0, text.length);
  const splice = (s: string | Buffer, from = at, to = at) => Buffer.concat([bytes.subarray(0, from), typeof s === "string" ? Buffer.from(s, "utf8") : s, bytes.subarray(to)]);
  switch (rng.weighted({ dup: 2, literal: 3, utf8: 2, truncate: 2, garbage: 1, pad: 1, empty: 1, deep: 1 })) {
    case "deep": {
      // A value nested deeper than a recursive walk of the parsed body survives.
      const depth = rng.pick([3_000, 20_000, 200_000]);
      const [open, close] = rng.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
      const colon = text.indexOf(":", at);
      const where = colon >= 0 ? colon + 1 : at;
      const value = `${open.repeat(depth)}1${close.repeat(depth)}`;
      const end = /^\s*("[^"\\]*"|-?[\d.eE+-]+|true|false|null)/.exec(text.slice(where))?.[0].length ?? 0;
      return { bytes: splice(value, where, where + end), note: `nested ${depth} deep at ${where}` };
    }
    case "dup": {
      // A key given twice: the first one valid, the second whatever; JSON.parse keeps the last.
      const key = /"([^"\\]{1,40})":/.exec(text.slice(at)) ?? /"([^"\\]{1,40})":/.exec(text);
      if (!key) return { bytes: splice("\"dup\":1,", text.indexOf("{") + 1, text.indexOf("{") + 1), note: "a key added" };
      const brace = text.indexOf("{") + 1;
      return { bytes: splice(`"${key[1]}":${JSON.stringify(weirdValue(rng))},`, brace, brace), note: `key "${key[1]}" twice` };
    }
    case "literal": {
      // Replace a scalar after a colon or comma with a literal JSON has no such thing as.
      const m = /[:,[]\s*("[^"\\]*"|-?\d[\d.eE+-]*|true|false|null)/g;
      const found = [...text.matchAll(m)];
      const lit = rng.pick(LITERALS);
      if (found.length === 0) return { bytes: splice(lit), note: `literal ${lit} inserted` };
      const hit = rng.pick(found);
      const start = hit.index! + hit[0].length - hit[1].length;
      return { bytes: splice(lit, start, start + hit[1].length), note: `${hit[1].slice(0, 30)} → ${lit}` };
    }
    case "utf8": {
      const bad = rng.pick(INVALID_UTF8);
      // Inside a string when there is one, where a decoder would have to decide what it means.
      const quote = text.indexOf('"', at);
      const where = quote >= 0 ? quote + 1 : at;
      return { bytes: splice(bad, where, where), note: `bytes ${bad.toString("hex")} at ${where}` };
    }
    case "truncate":
      return { bytes: bytes.subarray(0, at), note: `cut at ${at} of ${bytes.length}` };
    case "garbage":
      return { bytes: splice(rng.bytes(rng.int(1, 16))), note: `random bytes at ${at}` };
    case "pad": {
      // Just over or just under the limit, with whitespace JSON allows.
      const size = limit + rng.pick([-1, 0, 1, 1024, limit * 3]) - bytes.length;
      return { bytes: Buffer.concat([bytes, Buffer.alloc(Math.max(0, size), 0x20)]), note: `padded to ${Math.max(bytes.length, bytes.length + size)} bytes (limit ${limit})` };
    }
    case "empty":
      return { bytes: Buffer.alloc(0), note: "empty body" };
  }
  return { bytes, note: "unchanged" };
}

/** A valid body mutated: mostly in its value, sometimes in its bytes too; `notes` says how. */
export function mutateJson(rng: Rng, base: Json, limit: number): { bytes: Buffer; notes: string[] } {
  let value = base;
  const notes: string[] = [];
  for (let n = rng.int(rng.chance(0.1) ? 0 : 1, 3); n > 0; n--) {
    const m = mutateValue(rng, value);
    value = m.value;
    notes.push(m.note);
  }
  let bytes: Buffer = Buffer.from(JSON.stringify(value) ?? "null", "utf8");
  if (rng.chance(0.35)) {
    const m = mutateBytes(rng, bytes, limit);
    bytes = m.bytes;
    notes.push(m.note);
  }
  return { bytes, notes };
}

export type { Json };

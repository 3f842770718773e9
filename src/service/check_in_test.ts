import assert from "node:assert/strict";
import type { Connector } from "../protocol/mod.ts";
import type { DataSourceClass } from "../source/mod.ts";
import { defaultConfigurationSchema, featuresOf } from "../source/mod.ts";
import { checkInChanges, deepEqual } from "./check_in.ts";

class Notes {
  static features = { incrementalSync: true };
  static getDefaultConfiguration() {
    return {
      folder: { label: "Folder", order: 1, type: "str", value: "" },
      depth: { label: "Depth", order: 2, type: "int", display: "numeric", value: 3 },
    };
  }
}
const cls = Notes as unknown as DataSourceClass;

function connector(doc: Record<string, unknown>): Connector {
  return { id: "c1", seqNo: 4, primaryTerm: 1, doc: doc as never };
}

/** The same object with its keys in reverse order, at every level (as a stored document may). */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

Deno.test("deepEqual ignores key order, not array order or values", () => {
  const a = { x: 1, y: { p: [1, { q: null }], r: "s" } };
  assert.ok(deepEqual(a, reversed(a)));
  assert.ok(deepEqual(NaN, NaN));
  assert.ok(!deepEqual({ x: 1 }, { x: 1, y: 2 }));
  assert.ok(!deepEqual({ x: 1, y: 2 }, { x: 1, z: 2 }));
  assert.ok(!deepEqual([1, 2], [2, 1]));
  assert.ok(!deepEqual([], {}));
  assert.ok(!deepEqual({ x: null }, { x: {} }));
  assert.ok(!deepEqual(1, "1"));
});

Deno.test("a connector that already has the schema and features gets no write", () => {
  const configuration = defaultConfigurationSchema(cls) as Record<string, unknown>;
  configuration.folder = { ...configuration.folder as object, value: "/srv/notes" };
  const doc = {
    service_type: "notes",
    status: "connected",
    configuration: reversed(configuration),
    // Elasticsearch returns sync_rules as {advanced, basic}; the source builds {basic, advanced}.
    features: { ...reversed(featuresOf(cls)) as object, filtering_rules: true },
  };
  assert.equal(checkInChanges(connector(doc), cls, "notes"), undefined);
});

Deno.test("check-in writes the schema once, missing properties and changed features", () => {
  const first = checkInChanges(connector({ configuration: {}, features: null }), cls, "notes")!;
  assert.equal(first.status, "needs_configuration");
  assert.equal(first.service_type, "notes");
  assert.deepEqual(Object.keys(first.configuration!).sort(), ["depth", "folder"]);
  assert.deepEqual(first.features, featuresOf(cls));

  const configuration = defaultConfigurationSchema(cls) as unknown as Record<
    string,
    Record<string, unknown>
  >;
  delete configuration.depth!.tooltip;
  const lacking = checkInChanges(
    connector({ service_type: "notes", configuration, features: featuresOf(cls) }),
    cls,
    "notes",
  )!;
  assert.deepEqual(Object.keys(lacking), ["configuration"]);
  assert.ok("tooltip" in (lacking.configuration!.depth as object));

  const stale = { ...featuresOf(cls), incremental_sync: { enabled: false }, extra: true };
  const changed = checkInChanges(
    connector({
      service_type: "notes",
      configuration: defaultConfigurationSchema(cls),
      features: stale,
    }),
    cls,
    "notes",
  )!;
  assert.deepEqual(Object.keys(changed), ["features"]);
  assert.deepEqual(changed.features, { ...featuresOf(cls), extra: true });
});

Deno.test("a required text value removed from a configured connector stays empty: needs_configuration", () => {
  class Folder {
    static getDefaultConfiguration() {
      return {
        directory: { label: "Directory", type: "str" as const, value: "" },
        pattern: { label: "Pattern", type: "str" as const, value: "**/*", required: false },
      };
    }
  }
  const stored = {
    id: "c1",
    seqNo: 0,
    primaryTerm: 1,
    doc: {
      status: "connected",
      service_type: "dir",
      configuration: { pattern: { label: "Pattern", type: "str", value: "*.md", required: false } },
      features: featuresOf(Folder as never),
    },
  };
  const changes = checkInChanges(stored as never, Folder as never, "dir");
  assert.equal(changes?.status, "needs_configuration");
  assert.equal((changes?.configuration as Record<string, { value: unknown }>).directory?.value, "");
});

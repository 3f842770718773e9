import assert from "node:assert/strict";
import { redact } from "../log/mod.ts";
import {
  coerceValue,
  ConfigurationValidationError,
  defaultConfigurationSchema,
  mergeConfigurationSchema,
  sensitiveValues,
  toSourceConfiguration,
  validateConfiguration,
} from "./configuration.ts";
import type { ConfigurationSpec } from "./types.ts";

class Demo {
  static getDefaultConfiguration(): ConfigurationSpec {
    return {
      host: { label: "Host", value: "localhost", order: 1 },
      port: {
        label: "Port",
        type: "int",
        value: 9200,
        display: "numeric",
        validations: [{ type: "less_than", constraint: 65536 }],
      },
      password: { label: "Password", sensitive: true, value: "" },
      tags: { label: "Tags", type: "list", value: "", required: false, default_value: "a,b" },
      auth: { label: "Auth", value: "none", display: "dropdown" },
      token: {
        label: "Token",
        value: "",
        depends_on: [{ field: "auth", value: "token" }],
      },
      secure: { label: "Secure", type: "bool", value: true },
      ratio: { label: "Ratio", type: "float", value: 0.5, required: false },
      unlabeled: {},
    };
  }
}

function stored(values: Record<string, unknown>) {
  const schema = defaultConfigurationSchema(Demo);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    out[key] = { ...field, ...(key in values ? { value: values[key] } : {}) };
  }
  return out;
}

function problemsOf(values: Record<string, unknown>): string[] {
  try {
    validateConfiguration(toSourceConfiguration(stored(values), Demo));
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigurationValidationError);
    return error.problems;
  }
}

const VALID = { host: "db", port: 1, password: "pw-123456", unlabeled: "u" };

Deno.test("defaultConfigurationSchema fills every standard property", () => {
  const schema = defaultConfigurationSchema(Demo);
  assert.deepEqual(schema.unlabeled, {
    label: "UNLABELED",
    value: "",
    default_value: null,
    type: "str",
    display: "text",
    options: [],
    order: 1,
    required: true,
    sensitive: false,
    tooltip: null,
    depends_on: [],
    validations: [],
    ui_restrictions: [],
  });
  assert.equal(schema.port!.display, "numeric");
  assert.equal(schema.port!.required, true);
  // Each call returns fresh arrays (no shared state between connectors).
  schema.host!.options.push({ label: "x", value: "y" });
  assert.deepEqual(defaultConfigurationSchema(Demo).host!.options, []);
});

Deno.test("coerceValue converts to each field type", () => {
  assert.equal(coerceValue("12", "int"), 12);
  assert.equal(coerceValue(" -3 ", "int"), -3);
  assert.equal(coerceValue("1.5", "int"), "1.5"); // left for validation to report
  assert.equal(coerceValue("", "int"), null);
  assert.equal(coerceValue("1.5", "float"), 1.5);
  assert.equal(coerceValue("abc", "float"), "abc");
  assert.equal(coerceValue("TRUE", "bool"), true);
  assert.equal(coerceValue("off", "bool"), false);
  assert.equal(coerceValue(0, "bool"), false);
  assert.equal(coerceValue("maybe", "bool"), "maybe");
  assert.deepEqual(coerceValue("a, b ,, c", "list"), ["a", "b", "c"]);
  assert.deepEqual(coerceValue("", "list"), []);
  assert.deepEqual(coerceValue(5, "list"), [5]);
  assert.deepEqual(coerceValue(null, "list"), []);
  assert.deepEqual(coerceValue(["x"], "list"), ["x"]);
  assert.equal(coerceValue(42, "str"), "42");
  assert.equal(coerceValue(null, "str"), "");
});

Deno.test("toSourceConfiguration coerces, applies default_value and the schema's type", () => {
  const config = toSourceConfiguration(
    {
      ...stored({ port: "9300", tags: "", secure: "false" }),
      // Kibana stored the wrong type: the schema wins, as in Elastic's set_defaults.
      ratio: { label: "Ratio", type: "str", value: "0.25", required: false },
      category_1: { label: "Auth", order: 1, type: "category" },
      extra: { value: "kept" },
    },
    Demo,
  );
  assert.equal(config.port!.value, 9300);
  assert.deepEqual(config.tags!.value, ["a", "b"]);
  assert.equal(config.secure!.value, false);
  assert.equal(config.ratio!.type, "float");
  assert.equal(config.ratio!.value, 0.25);
  assert.equal(config.category_1, undefined);
  assert.equal(config.extra!.value, "kept");
  assert.equal(config.extra!.label, "EXTRA");
});

Deno.test("toSourceConfiguration accepts a plain map and adds schema keys the store lacks", () => {
  const config = toSourceConfiguration({ host: "example.test", port: "10" }, Demo);
  assert.equal(config.host!.value, "example.test");
  assert.equal(config.host!.label, "Host");
  assert.equal(config.port!.value, 10);
  assert.equal(config.secure!.value, true);
  assert.equal(config.ratio!.value, 0.5);
  // A required text field the store lacks is empty, never the schema's value.
  assert.equal(config.auth!.value, "");
});

Deno.test("a required text field removed from the store stays empty and fails validation", () => {
  const current = stored({ host: "db", password: "pw-123456", unlabeled: "u" });
  delete current.host;
  const merged = mergeConfigurationSchema(current, Demo).configuration;
  assert.equal(merged.host!.value, "", "check-in does not put localhost back");
  assert.throws(
    () => validateConfiguration(toSourceConfiguration(merged, Demo)),
    /'Host' \(host\) cannot be empty/,
  );
});

Deno.test("validateConfiguration accepts a valid configuration", () => {
  assert.deepEqual(problemsOf(VALID), []);
});

Deno.test("required and empty: the message names label and key", () => {
  assert.deepEqual(problemsOf({ ...VALID, host: "" }), ["'Host' (host) cannot be empty"]);
  const error = (() => {
    try {
      validateConfiguration(toSourceConfiguration(stored({ ...VALID, host: "" }), Demo));
    } catch (error) {
      return error as Error;
    }
  })();
  assert.ok(error instanceof ConfigurationValidationError);
  assert.equal(error.kind, "fatal");
  assert.equal(error.message, "Field validation errors: 'Host' (host) cannot be empty");
});

Deno.test("wrong types are reported", () => {
  assert.deepEqual(problemsOf({ ...VALID, port: "12a" }), [
    "'Port' (port) must be an integer, got '12a'",
  ]);
  assert.deepEqual(problemsOf({ ...VALID, secure: "maybe" }), [
    "'Secure' (secure) must be true or false, got 'maybe'",
  ]);
  assert.deepEqual(problemsOf({ ...VALID, ratio: "x" }), [
    "'Ratio' (ratio) must be a number, got 'x'",
  ]);
});

Deno.test("validations: less_than, greater_than, list_type, included_in, regex", () => {
  assert.deepEqual(problemsOf({ ...VALID, port: 70000 }), [
    "'Port' (port) value '70000' should be less than 65536",
  ]);
  const config = toSourceConfiguration({
    n: {
      label: "N",
      type: "int",
      value: 0,
      validations: [{ type: "greater_than", constraint: 0 }],
    },
    ids: {
      label: "Ids",
      type: "list",
      value: "1,x",
      validations: [{ type: "list_type", constraint: "int" }],
    },
    mode: {
      label: "Mode",
      value: "fast",
      validations: [{ type: "included_in", constraint: ["slow", "medium"] }],
    },
    kinds: {
      label: "Kinds",
      type: "list",
      value: "a,b",
      validations: [{ type: "included_in", constraint: ["a"] }],
    },
    code: { label: "Code", value: "ab12", validations: [{ type: "regex", constraint: "[a-z]+" }] },
    full: { label: "Full", value: "abc", validations: [{ type: "regex", constraint: "[a-z]+" }] },
  });
  try {
    validateConfiguration(config);
    assert.fail("expected a validation error");
  } catch (error) {
    assert.ok(error instanceof ConfigurationValidationError);
    assert.deepEqual(error.problems, [
      "'N' (n) value '0' should be greater than 0",
      "'Ids' (ids) list value '1' should be of type int",
      "'Ids' (ids) list value 'x' should be of type int",
      "'Mode' (mode) value 'fast' should be one of slow, medium",
      "'Kinds' (kinds) value 'b' should be one of a",
      "'Code' (code) value 'ab12' failed regex check [a-z]+",
    ]);
  }
});

Deno.test("list_type int accepts numbers given as numbers", () => {
  const config = toSourceConfiguration({
    ids: {
      label: "Ids",
      type: "list",
      value: [1, 2],
      validations: [{ type: "list_type", constraint: "int" }],
    },
  });
  validateConfiguration(config);
});

Deno.test("depends_on: a field whose dependencies are unmet is not validated", () => {
  assert.deepEqual(problemsOf({ ...VALID, auth: "none", token: "" }), []);
  assert.deepEqual(problemsOf({ ...VALID, auth: "token", token: "" }), [
    "'Token' (token) cannot be empty",
  ]);
  const config = toSourceConfiguration({
    a: { label: "A", value: "", depends_on: [{ field: "missing", value: true }] },
  });
  assert.throws(
    () => validateConfiguration(config),
    /'A' \(a\) depends on configuration 'missing', but it does not exist/,
  );
});

Deno.test("depends_on compares typed and string values alike", () => {
  const config = toSourceConfiguration({
    ssl: { label: "SSL", type: "bool", value: "true" },
    ca: { label: "CA", value: "", depends_on: [{ field: "ssl", value: true }] },
  });
  assert.throws(() => validateConfiguration(config), /'CA' \(ca\) cannot be empty/);
});

Deno.test("sensitive values never appear in validation messages", () => {
  const config = toSourceConfiguration({
    password: {
      label: "Password",
      sensitive: true,
      value: "hunter2-secret",
      validations: [{ type: "regex", constraint: "[0-9]+" }],
    },
    pin: { label: "PIN", type: "int", sensitive: true, value: "12ab-secret" },
  });
  try {
    validateConfiguration(config);
    assert.fail("expected a validation error");
  } catch (error) {
    const message = (error as Error).message;
    assert.ok(!message.includes("hunter2"), message);
    assert.ok(!message.includes("12ab"), message);
    assert.match(message, /'Password' \(password\) value \(hidden\) failed regex check/);
    assert.match(message, /'PIN' \(pin\) must be an integer, got \(hidden\)/);
  }
});

Deno.test("sensitiveValues registers secrets for redaction", () => {
  const config = toSourceConfiguration({
    password: { label: "Password", sensitive: true, value: "correct-horse-battery" },
    keys: { label: "Keys", type: "list", sensitive: true, value: "key-one-1234,key-two-5678" },
    user: { label: "User", value: "visible-user" },
  });
  assert.deepEqual(sensitiveValues(config), [
    "correct-horse-battery",
    "key-one-1234",
    "key-two-5678",
  ]);
  assert.equal(redact("pw correct-horse-battery user visible-user"), "pw ***** user visible-user");
});

Deno.test("merge: an empty configuration becomes the whole schema", () => {
  const { configuration, changed } = mergeConfigurationSchema({}, Demo);
  assert.equal(changed, true);
  assert.deepEqual(configuration, defaultConfigurationSchema(Demo));
  assert.equal(mergeConfigurationSchema(null, Demo).changed, true);
});

Deno.test("merge: nothing to do when every key and property is there", () => {
  const current = stored({ host: "db" });
  const { configuration, changed } = mergeConfigurationSchema(current, Demo);
  assert.equal(changed, false);
  assert.deepEqual(configuration, current);
});

Deno.test("merge: missing keys are added, values kept, other properties refreshed", () => {
  const current = stored({ host: "db.local" }) as Record<string, Record<string, unknown>>;
  delete current.secure;
  current.host!.label = "Old label";
  current.host!.tooltip = "old tooltip"; // the schema's tooltip is null: Elastic keeps the stored one
  current.category_1 = { label: "Connection", order: 1, type: "category" };
  const { configuration, changed } = mergeConfigurationSchema(current, Demo);
  assert.equal(changed, true);
  assert.deepEqual(configuration.secure, defaultConfigurationSchema(Demo).secure);
  assert.equal(configuration.host!.value, "db.local");
  assert.equal(configuration.host!.label, "Host");
  assert.equal(configuration.host!.tooltip, "old tooltip");
  assert.deepEqual(
    (configuration as Record<string, unknown>).category_1,
    { label: "Connection", order: 1, type: "category" },
  );
  // The input is not mutated.
  assert.equal(current.host!.label, "Old label");
});

Deno.test("merge: fields lacking standard properties get them, values kept", () => {
  const current = stored({ host: "h" }) as Record<string, Record<string, unknown>>;
  current.port = { label: "Port", value: 9300 };
  current.unknown = { value: "user field" };
  const { configuration, changed } = mergeConfigurationSchema(current, Demo);
  assert.equal(changed, true);
  assert.equal(configuration.port!.value, 9300);
  assert.equal(configuration.port!.type, "int");
  assert.deepEqual(configuration.port!.validations, [{ type: "less_than", constraint: 65536 }]);
  // Fields the schema does not know are left alone, as Elastic does.
  assert.deepEqual((configuration as Record<string, unknown>).unknown, { value: "user field" });
});

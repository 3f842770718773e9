import assert from "node:assert/strict";
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "mongodb";
import {
  bsonToJson,
  decodeCursorValue,
  documentIdOf,
  encodeCursorValue,
  exactNumber,
  timestampOf,
  valueAtPath,
} from "./_bson.ts";

Deno.test("exactNumber keeps numbers JSON carries exactly and strings for the rest", () => {
  assert.equal(exactNumber("12.50"), 12.5);
  assert.equal(exactNumber("0"), 0);
  assert.equal(exactNumber("-0.001"), -0.001);
  assert.equal(exactNumber("1E+3"), 1000);
  assert.equal(exactNumber("9007199254740992"), 9007199254740992);
  assert.equal(exactNumber("9007199254740993"), "9007199254740993");
  assert.equal(exactNumber("0.1000000000000000000001"), "0.1000000000000000000001");
  assert.equal(exactNumber("123456789012345678.9"), "123456789012345678.9");
  assert.equal(exactNumber("NaN"), "NaN");
  assert.equal(exactNumber("Infinity"), "Infinity");
});

Deno.test("bsonToJson converts every BSON type faithfully", () => {
  const oid = new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5");
  const uuid = new UUID("5b9acf46-2d61-4218-998d-8b364bedf9e2");
  const out = bsonToJson({
    oid,
    date: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)),
    badDate: new Date(NaN),
    dec: Decimal128.fromString("19.90"),
    decPrecise: Decimal128.fromString("12345678901234567890.123456789"),
    decNaN: Decimal128.fromString("NaN"),
    long: Long.fromString("42"),
    bigLong: Long.fromString("-9223372036854775808"),
    evenLong: Long.fromString("9007199254740994"),
    bigint: 12n,
    int32: new Int32(7),
    double: new Double(2.5),
    nan: NaN,
    inf: -Infinity,
    bin: new Binary(new Uint8Array([104, 105])),
    uuid,
    legacyUuid: new Binary(new Uint8Array(16).fill(1), 3),
    ts: new Timestamp({ t: 1700000000, i: 7 }),
    re: /ab+c/gi,
    bsonRe: new BSONRegExp("^x", "im"),
    code: new Code("function () { return 1; }"),
    codeScope: new Code("x", { a: new Int32(1) }),
    sym: new BSONSymbol("sym"),
    min: new MinKey(),
    max: new MaxKey(),
    ref: new DBRef("people", oid, "crm"),
    bytes: new Uint8Array([1, 2, 3]),
    nested: { arr: [1, "two", { three: oid, four: [new Date(0)] }], empty: {} },
    nothing: null,
    missing: undefined,
    flag: false,
  }) as Record<string, unknown>;
  assert.deepEqual(out, {
    oid: "64b7f0a2c2a4e3a1b2c3d4e5",
    date: "2024-02-29T12:00:00.123Z",
    badDate: null,
    dec: 19.9,
    decPrecise: "12345678901234567890.123456789",
    decNaN: "NaN",
    long: 42,
    bigLong: "-9223372036854775808",
    evenLong: "9007199254740994",
    bigint: 12,
    int32: 7,
    double: 2.5,
    nan: null,
    inf: null,
    bin: "aGk=",
    uuid: "5b9acf46-2d61-4218-998d-8b364bedf9e2",
    legacyUuid: "AQEBAQEBAQEBAQEBAQEBAQ==",
    ts: "2023-11-14T22:13:20.000Z",
    re: "/ab+c/gi",
    bsonRe: "/^x/im",
    code: "function () { return 1; }",
    codeScope: { code: "x", scope: { a: 1 } },
    sym: "sym",
    min: "MinKey",
    max: "MaxKey",
    ref: { $ref: "people", $id: "64b7f0a2c2a4e3a1b2c3d4e5", $db: "crm" },
    bytes: "AQID",
    nested: {
      arr: [1, "two", { three: "64b7f0a2c2a4e3a1b2c3d4e5", four: ["1970-01-01T00:00:00.000Z"] }],
      empty: {},
    },
    nothing: null,
    flag: false,
  });
  // Every converted value serialises to JSON and back unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
});

Deno.test("documentIdOf turns any _id into a string or number", () => {
  assert.equal(documentIdOf(new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5")), "64b7f0a2c2a4e3a1b2c3d4e5");
  assert.equal(documentIdOf("sku-1"), "sku-1");
  assert.equal(documentIdOf(42), 42);
  assert.equal(documentIdOf(Long.fromString("9007199254740993")), "9007199254740993");
  assert.equal(
    documentIdOf(new UUID("5b9acf46-2d61-4218-998d-8b364bedf9e2")),
    "5b9acf46-2d61-4218-998d-8b364bedf9e2",
  );
  assert.equal(documentIdOf({ region: "eu", n: 1 }), '{"region":"eu","n":1}');
  assert.equal(documentIdOf(new Date(0)), "1970-01-01T00:00:00.000Z");
});

Deno.test("valueAtPath and timestampOf read the timestamp field", () => {
  const oid = new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5");
  const doc = { a: { b: new Date(5000) }, "x.y": 1, oid };
  assert.deepEqual(valueAtPath(doc, "a.b"), new Date(5000));
  assert.equal(valueAtPath(doc, "x.y"), 1);
  assert.equal(valueAtPath(doc, "a.c.d"), undefined);
  assert.equal(timestampOf(new Date(5000)), "1970-01-01T00:00:05.000Z");
  assert.equal(timestampOf(oid), oid.getTimestamp().toISOString());
  assert.equal(timestampOf(new Timestamp({ t: 10, i: 0 })), "1970-01-01T00:00:10.000Z");
  assert.equal(timestampOf("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05.000Z");
  assert.equal(timestampOf(0), "1970-01-01T00:00:00.000Z");
  assert.equal(timestampOf("yesterday"), undefined);
  assert.equal(timestampOf(new Date(NaN)), undefined);
  assert.equal(timestampOf({ a: 1 }), undefined);
});

Deno.test("cursor values round-trip through JSON with their BSON type", () => {
  const values: unknown[] = [
    new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5"),
    new Date(Date.UTC(2024, 0, 1)),
    42,
    2.5,
    Long.fromString("9007199254740993"),
    Decimal128.fromString("1.10"),
    "abc",
    new Timestamp({ t: 1700000000, i: 3 }),
  ];
  for (const value of values) {
    const tagged = encodeCursorValue(value);
    assert.ok(tagged, `encodes ${String(value)}`);
    const restored = decodeCursorValue(JSON.parse(JSON.stringify(tagged)));
    assert.deepEqual(encodeCursorValue(restored), tagged);
    assert.equal(restored?.constructor, value?.constructor);
  }
  assert.equal(encodeCursorValue(new Int32(5))?.value, "5");
  for (const value of [true, null, undefined, { a: 1 }, [1], new Binary(new Uint8Array(1)), NaN]) {
    assert.equal(encodeCursorValue(value), undefined);
  }
  assert.throws(() => decodeCursorValue({ type: "date", value: "nope" }));
  assert.throws(() => decodeCursorValue({ type: "bogus" as never, value: "1" }));
  assert.throws(() => decodeCursorValue({ type: "timestamp", value: "1" }));
});

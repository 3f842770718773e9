import assert from "node:assert/strict";
import { errors } from "@elastic/elasticsearch";
import {
  classifyError,
  deserializeError,
  errorMessage,
  FatalError,
  RetriableError,
  serializeError,
  SkippableError,
  statusOf,
} from "./errors.ts";

function responseError(statusCode: number) {
  return new errors.ResponseError({
    body: { error: { type: "x", reason: "overloaded" } },
    statusCode,
    headers: {},
    warnings: null,
    meta: {} as never,
  });
}

Deno.test("classifyError follows the taxonomy", () => {
  assert.equal(classifyError(new FatalError("x")), "fatal");
  assert.equal(classifyError(new RetriableError("x")), "retriable");
  assert.equal(classifyError(new SkippableError("x")), "skippable");
  assert.equal(classifyError(responseError(429)), "retriable");
  assert.equal(classifyError(responseError(503)), "retriable");
  assert.equal(classifyError(responseError(400)), "fatal");
  assert.equal(classifyError(new errors.ConnectionError("refused")), "retriable");
  assert.equal(classifyError(new errors.TimeoutError("slow")), "retriable");
  assert.equal(classifyError("string"), "fatal");
});

Deno.test("statusOf and errorMessage", () => {
  assert.equal(statusOf(responseError(409)), 409);
  assert.equal(statusOf(new Error("x")), undefined);
  assert.equal(errorMessage(new TypeError("bad")), "TypeError: bad");
  assert.match(errorMessage(responseError(429)), /overloaded/);
});

Deno.test("classifyError reads a kind property: errors of another SDK copy keep their kind", () => {
  // What a source built against its own copy of the SDK throws: same shape, other class.
  class ForeignSkippable extends Error {
    readonly kind = "skippable";
  }
  assert.equal(classifyError(new ForeignSkippable("bad item")), "skippable");
  assert.equal(classifyError(Object.assign(new Error("x"), { kind: "retriable" })), "retriable");
  assert.equal(classifyError(Object.assign(new Error("x"), { kind: "sometimes" })), "fatal");
  assert.equal(classifyError({ kind: "skippable" }), "skippable");
  const refused = new Error("down");
  refused.name = "ConnectionRefused";
  assert.equal(classifyError(refused), "retriable");
});

Deno.test("serializeError and deserializeError keep the taxonomy across a boundary", () => {
  for (
    const [error, Class] of [
      [new FatalError("f"), FatalError],
      [new RetriableError("r"), RetriableError],
      [new SkippableError("s"), SkippableError],
    ] as const
  ) {
    const data = structuredClone(serializeError(error));
    const back = deserializeError(data);
    assert.ok(back instanceof Class, `${error.name} comes back as ${back.name}`);
    assert.equal(classifyError(back), error.kind);
    assert.equal(back.message, error.message);
  }
  const plain = deserializeError(serializeError(new TypeError("t")));
  assert.ok(!(plain instanceof FatalError), "an undeclared error is no FatalError");
  assert.equal(errorMessage(plain), "TypeError: t");
  const status = deserializeError(serializeError(responseError(503)));
  assert.equal(statusOf(status), 503);
  assert.equal(classifyError(status), "retriable");
  assert.deepEqual(serializeError(42), { name: "Error", message: "42" });
});

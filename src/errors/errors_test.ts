import assert from "node:assert/strict";
import { errors } from "@elastic/elasticsearch";
import {
  classifyError,
  errorMessage,
  FatalError,
  RetriableError,
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

import assert from "node:assert/strict";
import {
  COMMON_SERVICES,
  parseServices,
  serviceEnv,
  SERVICES,
  stackStatus,
  URL_ENV,
  withStateDir,
} from "./mod.ts";

// The variable names are built, not written out: the test runner starts a server for any test
// file that names its variable.
const secure = (suffix: string) => ["ES", "SECURE", suffix].join("_");

Deno.test("parseServices: defaults, all, lists, unknown names", () => {
  assert.deepEqual(parseServices(undefined, ["es"], COMMON_SERVICES), ["es"]);
  assert.deepEqual(parseServices("all", ["es"], COMMON_SERVICES), ["es", "mongo", "s3"]);
  assert.deepEqual(parseServices("all", SERVICES), ["es", "mongo", "s3", "es-secure", "es8"]);
  assert.deepEqual(parseServices("es8", ["es"], COMMON_SERVICES), ["es8"]);
  assert.deepEqual(parseServices("es-secure", ["es"]), ["es-secure"]);
  assert.deepEqual(parseServices("mongo,es-secure", ["es"]), ["mongo", "es-secure"]);
  assert.throws(() => parseServices("es,essec", ["es"]), /unknown service "essec"/);
});

Deno.test("serviceEnv: the URL, and for es-secure its CA files and password", () => {
  assert.equal(URL_ENV["es-secure"], secure("URL"));
  assert.deepEqual(serviceEnv({ service: "mongo", url: "mongodb://127.0.0.1:1/" }), {
    [URL_ENV.mongo]: "mongodb://127.0.0.1:1/",
  });
  assert.deepEqual(
    serviceEnv({
      service: "es-secure",
      url: "https://127.0.0.1:2",
      ca: "/s/ca.crt",
      wrongCa: "/s/wrong.crt",
      password: "pw",
    }),
    {
      [secure("URL")]: "https://127.0.0.1:2",
      [secure("CA")]: "/s/ca.crt",
      [secure("WRONG_CA")]: "/s/wrong.crt",
      [secure("PASSWORD")]: "pw",
    },
  );
  assert.deepEqual(serviceEnv({ service: "es", url: undefined }), {});
  assert.deepEqual(serviceEnv({ service: "es8", url: "http://127.0.0.1:3" }), {
    [["ES8", "URL"].join("_")]: "http://127.0.0.1:3",
  });
});

Deno.test("stackStatus: an empty stack has every service stopped, without URLs", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const infos = await withStateDir(dir, () => stackStatus());
    assert.deepEqual(infos.map((i) => i.service), [...SERVICES]);
    for (const info of infos) {
      assert.equal(info.running, false);
      assert.equal(info.url, undefined);
      assert.equal(info.password, undefined);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { parseJavaRelease, pickJdk } from "./_java.ts";

Deno.test("parseJavaRelease: feature version from a JDK release file", () => {
  assert.equal(parseJavaRelease('IMPLEMENTOR="x"\nJAVA_VERSION="25.0.3"\n'), 25);
  assert.equal(parseJavaRelease('JAVA_VERSION="17.0.15"'), 17);
  assert.equal(parseJavaRelease('JAVA_VERSION="1.8.0_402"'), 8);
  assert.equal(parseJavaRelease("JAVA_VERSION=21"), 21);
  assert.equal(parseJavaRelease('JAVA_VERSION_DATE="2025-04-15"'), undefined);
});

Deno.test("pickJdk: the highest feature version at or above the minimum", () => {
  const jdks = [
    { home: "/j/17", major: 17 },
    { home: "/j/25", major: 25 },
    { home: "/j/21", major: 21 },
  ];
  assert.equal(pickJdk(jdks)?.home, "/j/25");
  assert.equal(pickJdk(jdks.filter((j) => j.major < 25))?.home, "/j/21");
  assert.equal(pickJdk([{ home: "/j/17", major: 17 }]), undefined);
});

Deno.test("pickJdk: a bounded range (the 8.19 node: Java 17 to 20)", () => {
  const jdks = [
    { home: "/j/25", major: 25 },
    { home: "/j/17", major: 17 },
    { home: "/j/21", major: 21 },
  ];
  assert.equal(pickJdk(jdks, 17, 20)?.home, "/j/17");
  assert.equal(pickJdk(jdks.filter((j) => j.major !== 17), 17, 20), undefined);
});

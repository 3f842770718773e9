/**
 * The source SDK: everything a data source author needs, and what the framework uses to load,
 * configure and drive sources.
 *
 * A source is a class named in `config.yml` (`sources: {mytype: ./my_source.ts:MySource}`) with
 * a static `getDefaultConfiguration()`, and instance methods `ping()` and `getDocs()`;
 * extending {@linkcode BaseDataSource} is optional.
 *
 * @example
 * ```ts
 * import { BaseDataSource, createSource, type DocItem, featuresOf, splitDocItem, standaloneContext } from "./mod.ts";
 *
 * class HelloDataSource extends BaseDataSource {
 *   static override displayName = "Hello";
 *   static override features = { incrementalSync: false };
 *   static override getDefaultConfiguration() {
 *     return { greeting: { label: "Greeting", value: "hello" } };
 *   }
 *   override async ping(): Promise<void> {}
 *   override async *getDocs(): AsyncGenerator<DocItem> {
 *     yield { _id: "1", text: this.value<string>("greeting") };
 *     yield [{ _id: "2" }, async () => ({ _attachment: btoa("bytes") })];
 *   }
 * }
 *
 * const source = createSource(HelloDataSource, { greeting: { value: "hi" } }, standaloneContext());
 * const docs = [];
 * for await (const item of source.getDocs()) docs.push(splitDocItem(item)[0]);
 * if (docs[0]!.text !== "hi" || !featuresOf(HelloDataSource).sync_rules?.basic?.enabled) throw new Error();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./access_control.ts";
export * from "./base_data_source.ts";
export * from "./builtin_sources.ts";
export * from "./configuration.ts";
export * from "./create_source.ts";
export * from "./encoding.ts";
export * from "./features.ts";
export * from "./items.ts";
export * from "./permission_hint.ts";
export * from "./source_registry.ts";
export * from "./worker_pool.ts";
export type { SourceGrant, SpawnSandbox } from "./sandbox/mod.ts";
// What a source raises and how it keeps secrets out of messages: shipped sources import only this
// module from `src/`.
export { FatalError, RetriableError, SkippableError } from "../errors/mod.ts";
export { displayUrl, type Logger, redact, registerSecret, registerUrlSecrets } from "../log/mod.ts";

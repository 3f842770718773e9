/**
 * Connectors for Deno: the public API for source authors. Re-exports the source SDK
 * (`src/source/mod.ts`): `BaseDataSource`, the configuration field types, documents and
 * operations, and the Worker pool for CPU-heavy work.
 *
 * @example
 * ```ts
 * import { BaseDataSource } from "./mod.ts";
 * import type { ConfigurationSpec, DocItem } from "./mod.ts";
 *
 * class HelloSource extends BaseDataSource {
 *   static override getDefaultConfiguration(): ConfigurationSpec {
 *     return { greeting: { label: "Greeting", type: "str", value: "hello" } };
 *   }
 *   override async ping(): Promise<void> {}
 *   override async *getDocs(): AsyncGenerator<DocItem> {
 *     yield { _id: "1", text: String(this.configuration.greeting?.value) };
 *   }
 * }
 * if (typeof HelloSource.getDefaultConfiguration !== "function") throw new Error();
 * ```
 *
 * @module
 */
export * from "./src/source/mod.ts";

/**
 * The connector `features` object a source class implies (spec §2 `features`, §7).
 *
 * @module
 */
import type { ConnectorFeatures } from "../protocol/types.ts";
import type { SourceFeatures } from "./types.ts";

/** Features a class gets when it declares none: basic sync rules only (as in Elastic's base). */
export const DEFAULT_SOURCE_FEATURES: Readonly<SourceFeatures> = {
  basicRules: true,
  advancedRules: false,
  incrementalSync: false,
  documentLevelSecurity: false,
};

/**
 * The connector `features` object for a source class, shaped as Elastic's `features()`:
 * `sync_rules.{basic,advanced}`, `document_level_security`, `incremental_sync` and
 * `native_connector_api_keys` (always disabled for self-managed sources).
 *
 * @example
 * ```ts
 * import { featuresOf } from "./features.ts";
 * class Demo {
 *   static features = { incrementalSync: true };
 * }
 * const features = featuresOf(Demo);
 * if (!features.incremental_sync?.enabled || !features.sync_rules?.basic?.enabled) throw new Error();
 * ```
 */
export function featuresOf(
  cls: { readonly features?: Partial<SourceFeatures> },
): ConnectorFeatures {
  const declared = { ...DEFAULT_SOURCE_FEATURES, ...(cls.features ?? {}) };
  return {
    sync_rules: {
      basic: { enabled: Boolean(declared.basicRules) },
      advanced: { enabled: Boolean(declared.advancedRules) },
    },
    document_level_security: { enabled: Boolean(declared.documentLevelSecurity) },
    incremental_sync: { enabled: Boolean(declared.incrementalSync) },
    native_connector_api_keys: { enabled: false },
  };
}

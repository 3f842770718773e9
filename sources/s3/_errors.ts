/**
 * Turns AWS SDK errors into one-line messages naming the bucket, without credentials.
 *
 * @module
 */
import {
  FatalError,
  permissionHint,
  redact,
  RetriableError,
  SkippableError,
} from "../../src/source/mod.ts";

interface SdkError {
  name?: string;
  message?: string;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const MISSING_BUCKET = new Set(["NoSuchBucket"]);
const DENIED = new Set(["AccessDenied", "Forbidden", "AllAccessDisabled", "AccountProblem"]);
const BAD_CREDENTIALS = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "CredentialsProviderError",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const TIMEOUTS = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const THROTTLED = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "ServiceUnavailable",
  "InternalError",
]);

function codeOf(error: SdkError): string | undefined {
  for (let e: SdkError | undefined = error, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === "string") return e.code;
    e = e.cause as SdkError | undefined;
  }
  const match = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET)\b/.exec(
    error.message ?? "",
  );
  return match?.[1];
}

/** What the failing call was about. */
export interface S3Target {
  /** The bucket, when the call was about one. */
  bucket?: string;
  /** The key, when the call was about one object. */
  key?: string;
  /** Where requests go (the endpoint URL, or "AWS S3 (<region>)"). */
  endpoint: string;
}

/**
 * A project error with a clear message: a missing bucket or denied access names the bucket;
 * refused credentials, unreachable endpoints and timeouts say so. Network faults and throttling
 * are retriable, a vanished object is skippable, the rest fatal.
 *
 * @example
 * ```ts
 * import { describeS3Error } from "./_errors.ts";
 * const error = Object.assign(new Error("The specified bucket does not exist"), { name: "NoSuchBucket" });
 * const out = describeS3Error(error, { bucket: "reports", endpoint: "http://127.0.0.1:9000" }, "list");
 * if (out.message !== "Cannot list bucket 'reports': it does not exist (at http://127.0.0.1:9000)") {
 *   throw new Error(out.message);
 * }
 * ```
 */
export function describeS3Error(
  error: unknown,
  target: S3Target,
  action: string,
): FatalError | RetriableError | SkippableError {
  const e =
    (typeof error === "object" && error !== null ? error : { message: String(error) }) as SdkError;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const detail = redact(String(e.message ?? name)).replace(/\s+/g, " ").trim();
  const what = target.key !== undefined
    ? `object '${target.key}' of bucket '${target.bucket}'`
    : target.bucket !== undefined
    ? `bucket '${target.bucket}'`
    : "the bucket list";
  const subject = `Cannot ${action} ${what}`;
  const at = `(at ${target.endpoint})`;
  const code = codeOf(e);
  // Deno refused the access: retrying cannot help, adding the flag does.
  const refused = permissionHint(detail);
  if (refused) return new FatalError(`${subject}: ${refused.problem} (run with ${refused.flag})`);
  if (MISSING_BUCKET.has(name) || (target.key === undefined && target.bucket && status === 404)) {
    return new FatalError(`${subject}: it does not exist ${at}`);
  }
  if (name === "NoSuchKey" || (target.key !== undefined && status === 404)) {
    return new SkippableError(`${subject}: the object no longer exists`);
  }
  if (name === "InvalidObjectState") {
    return new SkippableError(`${subject}: the object is archived and must be restored first`);
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new FatalError(`${subject}: S3 refused the credentials (${name}) ${at}`);
  }
  if (DENIED.has(name) || status === 403) {
    return new FatalError(
      `${subject}: access denied (${name}); grant s3:ListBucket and s3:GetObject on it ${at}`,
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new FatalError(`${subject}: the endpoint host cannot be resolved (${code}) ${at}`);
  }
  if (code && NETWORK_CODES.has(code)) {
    return new RetriableError(`${subject}: cannot reach S3 (${code}) ${at}`);
  }
  if (TIMEOUTS.has(name) || /timed? ?out/i.test(detail)) {
    return new RetriableError(`${subject}: S3 did not answer in time (${detail}) ${at}`);
  }
  if (THROTTLED.has(name) || (status !== undefined && (status === 429 || status >= 500))) {
    return new RetriableError(`${subject}: S3 is busy (${name}: ${detail}) ${at}`);
  }
  return new FatalError(`${subject}: ${name}: ${detail} ${at}`);
}

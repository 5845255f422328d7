/**
 * Errors no retry can fix: a missing or malformed input, a bad config, a request too long for the model.
 * Every layer throws a subclass with its own `type`; the activity boundary (activities/failures.ts) turns any
 * of them into a non-retryable Temporal failure of that type, so the build fails at once, naming the cause,
 * instead of retrying a typo for hours. Transient trouble (a storage outage, an HTTP 503) is never one.
 */
export class PermanentError extends Error {
  constructor(
    /** The failure type Temporal shows (`DumpNotFound`, `MissingInput`, …). */
    readonly type: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something the build itself wrote earlier is absent from storage: a bug or a deleted prefix, never transient. */
export class MissingInputError extends PermanentError {
  constructor(message: string) {
    super('MissingInput', message);
  }
}

/** A user-supplied input (a dump, an SFT file, a prompt pack) that does not exist or cannot be read as what it claims to be. */
export class BadInputError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BadInput', message, options);
  }
}

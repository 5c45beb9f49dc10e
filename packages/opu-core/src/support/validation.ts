import type { z } from 'zod';
import { ArgumentError, type OpuError, type OpuErrorDetails } from './errors.js';

/**
 * `schema.parse(value)`, or a typed error naming the first issue's field under `root` (`options.exposure.margin`)
 * with the fix: the one way settings, options and URLs report bad input.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: string,
  fix: string,
  ErrorClass: new (message: string, details: OpuErrorDetails) => OpuError = ArgumentError,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ErrorClass(issue.message, { field: [root, ...issue.path.map(String)].join('.'), fix });
}

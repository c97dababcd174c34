/**
 * The one way tests look at errors: the SemvecError a call throws or a
 * promise rejects with, and assertions on its code and message.
 */
import { expect } from 'vitest';

import { SemvecError } from '../../src/index.js';

/** The SemvecError a call throws; fails the test if it returns or throws anything else. */
export function errorOf(fn: () => unknown): SemvecError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SemvecError);
    return err as SemvecError;
  }
  throw new Error('expected the call to throw a SemvecError; it returned');
}

/** The code of the SemvecError a call throws, or undefined if it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SemvecError);
    return (err as SemvecError).code;
  }
  return undefined;
}

/** The SemvecError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejectionOf(p: Promise<unknown>): Promise<SemvecError> {
  const outcome = await p.then(
    () => ({ resolved: true as const }),
    (err: unknown) => ({ resolved: false as const, err }),
  );
  if (outcome.resolved) throw new Error('expected the promise to reject with a SemvecError; it resolved');
  expect(outcome.err).toBeInstanceOf(SemvecError);
  return outcome.err as SemvecError;
}

/** Asserts that a call throws a SemvecError with this code (and a message matching `message`). */
export function expectCode(fn: () => unknown, code: string, message?: RegExp): SemvecError {
  const err = errorOf(fn);
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

/** Asserts that a promise rejects with a SemvecError with this code (and a message matching `message`). */
export async function expectRejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<SemvecError> {
  const err = await rejectionOf(p);
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

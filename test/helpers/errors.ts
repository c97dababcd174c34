/** The code of the SemvecError a call throws, or undefined if it returns. */
import { expect } from 'vitest';

import { SemvecError } from '../../src/index.js';

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SemvecError);
    return (err as SemvecError).code;
  }
  return undefined;
}

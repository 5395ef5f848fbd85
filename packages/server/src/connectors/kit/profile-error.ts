import { BankConfigError } from './types.ts';

/**
 * A wrong option of a bank's profile names itself, so the operator fixes the bank's configuration,
 * not the code. One class for every standard (a bundle keeps one name per class: three classes
 * called ProfileError would be renamed, and error names in logs would lie).
 */
export class ProfileError extends Error {
  readonly option: string;
  constructor(standard: string, option: string, reason: string) {
    super(`${standard} option ${option}: ${reason}`);
    this.option = option;
  }
}

/** The profile error of one standard, thrown as `new StandardError(option, reason)`. */
export function profileErrorOf(standard: string) {
  return class StandardProfileError extends ProfileError {
    constructor(option: string, reason: string) {
      super(standard, option, reason);
    }
  };
}

/** Runs a module's profile check for `validateConfig`: a wrong option is thrown as the BankConfigError the core answers with. */
export function checkedProfile<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ProfileError) throw new BankConfigError(error.message);
    throw error;
  }
}

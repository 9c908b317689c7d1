import type { Command } from 'commander';

/**
 * An action whose code is loaded when it runs. `billing --help` and a command that needs only the
 * database then load neither the AWS SDK, nor the Stripe SDK, nor the HTTP server: each command
 * pays for what it uses. `get` is a `require` (the build is CommonJS; a dynamic import would go
 * through Node's ESM loader for nothing). The handler gets the command's arguments and options,
 * not commander's Command (passed last), so a handler's own optional parameters stay its own.
 */
export function lazy<M, A extends unknown[]>(get: () => M, pick: (m: M) => (...args: A) => unknown) {
  return async (...args: [...A, Command]): Promise<void> => {
    await pick(get())(...(args.slice(0, -1) as unknown as A));
  };
}

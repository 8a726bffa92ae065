/** For exhaustive switches over unions (event types, principals, lifecycles): a case left out fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

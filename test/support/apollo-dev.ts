/*
 * Apollo Client 4 checks (and warns about lost cache data, missing key fields...) only in development mode, which it
 * reads from `globalThis.__DEV__` once, when its modules load; Node resolves its production build. Import this module
 * before anything that imports @apollo/client, so the client tests run the cache with every check a developer's
 * browser would run.
 */
(globalThis as { __DEV__?: boolean }).__DEV__ = true;

export {};

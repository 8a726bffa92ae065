import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseRedisUrl } from './config.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return error instanceof ConfigError ? error.code : `not a ConfigError: ${String(error)}`;
  }
  return undefined;
};

describe('REDIS_URL and REDIS_CLUSTER_NODES', () => {
  it('takes one server as given, and no Redis when neither is set', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: '' }).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
    expect(parseRedisUrl('rediss://user:secret@cache.example:6380/2')).toEqual({ kind: 'single', url: 'rediss://user:secret@cache.example:6380/2' });
    expect(parseRedisUrl('redis://localhost')).toEqual({ kind: 'single', url: 'redis://localhost' });
  });

  it('reads a redis+cluster:// URL: seed nodes, credentials, TLS', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@redis-a.internal:6379,[::1]:7002,redis-a.internal:6379/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-a.internal', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: true,
      username: 'app',
      password: 'p@ss',
    });
    expect(parseRedisUrl('redis+cluster://:secret@h:1')).toEqual({ kind: 'cluster', nodes: [{ host: 'h', port: 1 }], tls: false, password: 'secret' });
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:7000,b:7001' }).redisUrl).toBe('redis+cluster://a:7000,b:7001');
  });

  it('turns REDIS_CLUSTER_NODES into the redis+cluster:// form', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001,127.0.0.1:7002' }).redisUrl).toBe('redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002');
    expect(loadConfig({ REDIS_CLUSTER_NODES: '[::1]:7000' }).redisUrl).toBe('redis+cluster://[::1]:7000');
    expect(parseRedisUrl(loadConfig({ REDIS_CLUSTER_NODES: 'a:1,b:2' }).redisUrl!)).toMatchObject({ kind: 'cluster', nodes: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }] });
  });

  it.each([
    ['http://127.0.0.1:6379', 'REDIS_URL_INVALID'],
    ['127.0.0.1:6379', 'REDIS_URL_INVALID'],
    ['redis://', 'REDIS_URL_INVALID'],
    ['redis://host:99999', 'REDIS_URL_INVALID'],
    ['redis+cluster://', 'REDIS_URL_INVALID'],
    ['redis+cluster://a:7000,b', 'REDIS_URL_INVALID'],
    ['redis+cluster://a:0', 'REDIS_URL_INVALID'],
    ['redis+cluster://a:7000,,b:7001', 'REDIS_URL_INVALID'],
    ['redis+cluster://a:7000/3', 'REDIS_URL_INVALID'],
    ['redis+cluster://a:7000?tls=true', 'REDIS_URL_INVALID'],
  ])('refuses REDIS_URL=%s with %s', (raw, code) => {
    expect(codeOf(() => loadConfig({ REDIS_URL: raw }))).toBe(code);
  });

  it.each(['', ' ', 'a', 'a:', ':7000', 'a:7000;b:7001', 'a:x', 'a:7000,b:70000', 'redis://a:7000'])('refuses REDIS_CLUSTER_NODES=%j', (raw) => {
    // An empty value is unset, like every other variable.
    expect(codeOf(() => loadConfig({ REDIS_CLUSTER_NODES: raw }))).toBe(raw === '' ? undefined : 'REDIS_CLUSTER_NODES_INVALID');
  });

  it('refuses both at once, and says which setting is wrong', () => {
    expect(codeOf(() => loadConfig({ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'b:2' }))).toBe('REDIS_CONFIG_CONFLICT');
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://a:7000,b' })).toThrow(/^REDIS_URL_INVALID: REDIS_URL: "b" is not host:port/);
  });

  it('keeps braces out of REDIS_PREFIX (they would change every key\'s cluster slot)', () => {
    expect(loadConfig({}).redisPrefix).toBe('retail');
    expect(loadConfig({ REDIS_PREFIX: 'shop-eu' }).redisPrefix).toBe('shop-eu');
    expect(codeOf(() => loadConfig({ REDIS_PREFIX: 'shop{eu}' }))).toBe('REDIS_PREFIX_INVALID');
    expect(codeOf(() => loadConfig({ REDIS_PREFIX: 'shop}' }))).toBe('REDIS_PREFIX_INVALID');
  });
});

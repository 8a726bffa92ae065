export { startRedisServer, type RedisServerHandle, type StartRedisServerOptions } from '../../scripts/redis-server.js';

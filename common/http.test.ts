import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { Query, Resolver } from 'type-graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFederatedSchema } from './federation.js';
import { MAX_BODY_BYTES } from './http.js';
import { createLogger } from './logger.js';
import { createSubgraphService, type SubgraphService } from './service.js';

/*
 * An oversized body on a keep-alive connection, through the real service shell and Apollo's drain plugin. Reading
 * the body with an early-exited `for await` detached the request from its socket, so the drain counted that
 * connection as busy for ever: stop() hung for the 10 s grace period and then threw an uncaught
 * `TypeError: Cannot read properties of null (reading 'end')` (seen in test/bad-input.test.ts). Here stop() has to
 * finish within the test's timeout with the client's idle socket still open, and vitest fails the run on the
 * uncaught error.
 */

@Resolver()
class HelloResolver {
  @Query(() => String)
  hello(): string {
    return 'hello';
  }
}

interface Reply {
  status: number;
  body: string;
  reusedSocket: boolean;
  socket: Socket;
}

function post(url: string, agent: Agent, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: req.reusedSocket, socket: req.socket as Socket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const services: SubgraphService[] = [];
const agents: Agent[] = [];
afterAll(async () => {
  for (const agent of agents) agent.destroy();
  for (const service of services) await service.stop();
});

describe('request bodies over the limit', () => {
  it('answer 413, keep the connection usable, and let the service stop while the client holds it open', async () => {
    const service = await createSubgraphService({
      name: 'hello',
      schema: await buildFederatedSchema({ resolvers: [HelloResolver] }),
      logger: createLogger({ level: 'silent' }),
      context: (base) => base,
    });
    services.push(service);
    const url = await service.listen(0);
    // One socket, kept alive: the second request must travel on the connection that carried the oversized one.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);

    const tooLarge = await post(url, agent, JSON.stringify({ query: `{ hello } # ${'x'.repeat(MAX_BODY_BYTES + 100_000)}` }));
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body).errors[0].message).toMatch(/larger than/);

    const next = await post(url, agent, JSON.stringify({ query: '{ hello }' }));
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).data).toEqual({ hello: 'hello' });
    expect(next.reusedSocket).toBe(true);

    // The agent keeps its idle socket; a correct drain ends it at once rather than waiting out the grace period.
    const clientSocketClosed = new Promise<void>((resolve) => next.socket.once('close', () => resolve()));
    await service.stop();
    services.pop();
    await clientSocketClosed;
  });
});

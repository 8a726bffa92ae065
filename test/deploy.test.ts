/**
 * The deployment files (Dockerfile, compose.yaml, deploy/k8s, deploy/prometheus, deploy/grafana), checked against the
 * code without running them: no Docker engine, cluster or Prometheus is needed. Ports are the configuration's
 * defaults, every environment variable a file sets is one the code reads and README's "Configuration" documents,
 * every image is the one the Dockerfile builds, every Prometheus series (and label) is in the metric catalog.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '../common/config.js';
import { BREAKER_STATE_VALUES, METRIC_NAMES, Metrics } from '../common/telemetry/metrics.js';
import { checkProductionConfig } from '../stack.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

type Service = 'gateway' | SubgraphName;
type Mode = Service | 'sandbox';
const SERVICES: readonly Service[] = ['gateway', ...SUBGRAPH_NAMES];
const defaults = loadConfig({});
const PORTS: Record<Mode, number> = { gateway: defaults.gatewayPort, ...defaults.subgraphPorts, sandbox: defaults.sandboxPort };
const pkg = JSON.parse(read('package.json')) as { name: string; version: string };
/** The one image of the graph: package.json's name, tagged with its version. */
const IMAGE = `${pkg.name}:${pkg.version}`;
const THIRD_PARTY_IMAGES = [/^redis:7(\.|$)/, /^prom\/prometheus:v\d/];

// ---------------------------------------------------------------------------------------------------------------
// What the code reads and what README documents

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((file) => `${dir}/${file.split('\\').join('/')}`)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && statSync(join(ROOT, file)).isFile());
}

/** Every environment variable the processes read: `env.NAME`, `env['NAME']`, `int(env, 'NAME', ...)`, `${upper}_PORT`. */
function envNamesReadByCode(): Set<string> {
  const names = new Set<string>();
  const files = ['main.ts', 'stack.ts', ...['common', 'gateway', 'subgraphs', 'sandbox'].flatMap(sourceFiles)];
  for (const file of files) {
    const text = read(file);
    for (const pattern of [/\benv\.([A-Z][A-Z0-9_]*)\b/g, /\benv\[\s*'([A-Z][A-Z0-9_]*)'\s*\]/g, /\(env,\s*'([A-Z][A-Z0-9_]*)'/g]) {
      for (const match of text.matchAll(pattern)) names.add(match[1]!);
    }
  }
  const config = read('common/config.ts');
  // optionalInts(env, { maxDepth: 'MAX_QUERY_DEPTH', ... })
  for (const match of config.matchAll(/\b\w+:\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) names.add(match[1]!);
  // `${upper}_PORT`, `${upper}_URL`: one per subgraph
  for (const match of config.matchAll(/`\$\{\w+\}_([A-Z][A-Z0-9_]*)`/g)) for (const name of SUBGRAPH_NAMES) names.add(`${name.toUpperCase()}_${match[1]!}`);
  return names;
}

/** The backticked names in the first column of README's "## Configuration" table, `A_X` … `B_X` ranges expanded. */
function readmeConfigurationNames(): Set<string> {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Configuration\n');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cell = line.split('|')[1] ?? '';
    const inCell = [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    for (const name of inCell) names.add(name);
    if (cell.includes('…')) {
      const first = inCell[0] ?? '';
      const prefix = SUBGRAPH_NAMES.find((n) => first.startsWith(`${n.toUpperCase()}_`));
      expect(prefix, `a range in README's Configuration table must start at a subgraph's variable: ${cell}`).toBeDefined();
      const suffix = first.slice(prefix!.length);
      for (const name of SUBGRAPH_NAMES) names.add(`${name.toUpperCase()}${suffix}`);
    }
  }
  return names;
}

const CODE_ENV = envNamesReadByCode();
const README_ENV = readmeConfigurationNames();

function expectKnownEnv(names: Iterable<string>, where: string): void {
  for (const name of names) {
    expect(CODE_ENV.has(name), `${where}: ${name} is not read by the code`).toBe(true);
    expect(README_ENV.has(name), `${where}: ${name} is not in README's Configuration table`).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

function dockerfile(): { instructions: Instruction[]; stages: { name: string | undefined; image: string }[] } {
  const lines = read('Dockerfile').split('\n');
  const logical: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) && current === '') continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const instructions: Instruction[] = [];
  const stages: { name: string | undefined; image: string }[] = [];
  for (const line of logical) {
    const match = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    expect(match, `Dockerfile line: ${line}`).not.toBeNull();
    const keyword = match![1]!.toUpperCase();
    const args = match![2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      expect(from, `FROM ${args}`).not.toBeNull();
      stages.push({ image: from![1]!, name: from![2] });
    }
    instructions.push({ keyword, args, stage: stages.length - 1 });
  }
  return { instructions, stages };
}

/** The JSON array of an exec-form instruction (after its --options). */
function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const value = JSON.parse(json) as unknown;
  expect(Array.isArray(value) && value.every((v) => typeof v === 'string'), `exec form: ${args}`).toBe(true);
  return value as string[];
}

const DOCKER = dockerfile();
const lastStage = DOCKER.stages.length - 1;
const runtime = DOCKER.instructions.filter((i) => i.stage === lastStage);
const dockerUser = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
const dockerUid = Number(dockerUser.split(':')[0]);

describe('Dockerfile', () => {
  it('builds in one stage and runs from another with production dependencies only', () => {
    expect(DOCKER.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of DOCKER.stages) expect(stage.image).toMatch(/^node:(2[2-9]|[3-9]\d)[.-]/);
    const build = DOCKER.instructions.filter((i) => i.stage < lastStage && i.keyword === 'RUN').map((i) => i.args);
    expect(build.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    expect(build.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const installs = runtime.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/\bnpm ci\b.*--omit=dev/);
    expect(runtime.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(false);
  });

  it('copies the build output and every file the processes read into the runtime stage', () => {
    const copies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    const buildName = DOCKER.stages[0]!.name;
    expect(copies.some((c) => c.startsWith(`--from=${buildName} `) && /\/dist\s/.test(c))).toBe(true);
    for (const file of [defaults.supergraphPath, defaults.edge.persistedDocumentsPath, 'contract', 'package-lock.json']) {
      expect(statSync(join(ROOT, file)), file).toBeTruthy();
      expect(copies.some((c) => c.split(/\s+/).slice(0, -1).includes(file)), `COPY ${file}`).toBe(true);
    }
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(entry);
    // What the build and the runtime stage copy must not be ignored.
    for (const needed of ['package.json', 'package-lock.json', defaults.supergraphPath, defaults.edge.persistedDocumentsPath, 'contract', 'common', 'gateway', 'subgraphs', 'sandbox', 'main.ts', 'stack.ts']) {
      expect(ignored, needed).not.toContain(needed);
    }
  });

  it('runs as a numeric non-root user with NODE_ENV=production', () => {
    expect(dockerUser).toMatch(/^\d+(:\d+)?$/);
    expect(dockerUid).toBeGreaterThan(0);
    expect(runtime.some((i) => i.keyword === 'ENV' && /\bNODE_ENV[= ]production\b/.test(i.args))).toBe(true);
  });

  it('exposes exactly the default ports and checks /health with node on them', () => {
    const exposed = runtime.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.replace(/\/tcp$/, ''))));
    expect(new Set(exposed)).toEqual(new Set(Object.values(PORTS)));
    const healthchecks = runtime.filter((i) => i.keyword === 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0]!.args).toMatch(/^(--\S+\s+)*CMD \[/);
    const command = execForm(healthchecks[0]!.args);
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    const script = command[2]!;
    expect(script).toContain('/health');
    expect(script).toContain('127.0.0.1');
    const ports = /\[((?:\d+,)*\d+)/.exec(script)?.[1]?.split(',').map(Number) ?? [];
    expect(new Set(ports)).toEqual(new Set(Object.values(PORTS)));
  });

  it('starts dist/main.js in a mode main.ts knows, the gateway by default', () => {
    const entrypoint = execForm(runtime.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)!.args);
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint.at(-1)).toBe('dist/main.js');
    const cmd = execForm(runtime.filter((i) => i.keyword === 'CMD').at(-1)!.args);
    expect(cmd).toEqual(['gateway']);
    expect(read('main.ts')).toContain(`case '${cmd[0]!}':`);
    expect(read('Dockerfile')).toContain(`docker build -t ${IMAGE} .`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// compose.yaml

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  expose?: string[];
  networks?: Record<string, { aliases?: string[] } | null>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  stop_grace_period?: string;
  configs?: { source: string; target: string }[];
  volumes?: string[];
  profiles?: string[];
}

const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService>; configs?: Record<string, { content?: string }> };
const composeServices = Object.entries(compose.services);

/** Compose's `${VAR:-default}` as a shell without VAR set sees it. */
const interpolate = (value: string): string => value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_all, _name: string, fallback: string | undefined) => fallback ?? '');

function composeEnv(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''))]));
}

function modeOf(command: readonly string[] | undefined): Mode {
  const [mode, name] = command ?? [];
  if (mode === 'gateway' || mode === 'sandbox') return mode;
  expect(mode).toBe('subgraph');
  expect(SUBGRAPH_NAMES as readonly string[]).toContain(name);
  return name as SubgraphName;
}

const appServices = composeServices.filter(([, s]) => s.image === IMAGE).map(([name, s]) => ({ name, service: s, mode: modeOf(s.command), env: composeEnv(s) }));
const composeByMode = (mode: Mode) => appServices.filter((s) => s.mode === mode);

const seconds = (duration: string | undefined): number => {
  const match = /^(\d+)(ms|s|m)$/.exec(duration ?? '');
  if (!match) return 0;
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
};

describe('compose.yaml', () => {
  it('runs the one image, Redis with persistence and Prometheus only', () => {
    for (const [name, service] of composeServices) {
      if (service.image === IMAGE) continue;
      expect(THIRD_PARTY_IMAGES.some((p) => p.test(service.image ?? '')), `${name}: ${service.image}`).toBe(true);
    }
    const builders = composeServices.filter(([, s]) => s.build !== undefined);
    expect(builders.length).toBeGreaterThan(0);
    for (const [, s] of builders) {
      expect(s.image).toBe(IMAGE);
      const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
      expect(build.context).toBe('.');
      expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    }
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.healthcheck?.test?.join(' ')).toContain('redis-cli ping');
  });

  it('runs the sandbox once and two instances of the gateway and of every subgraph', () => {
    expect(composeByMode('sandbox')).toHaveLength(1);
    for (const service of SERVICES) expect(composeByMode(service).length, service).toBeGreaterThanOrEqual(2);
  });

  it('gives every process a configuration the code accepts for its mode', () => {
    for (const { name, mode, env } of appServices) {
      const config = loadConfig(env);
      const production = mode === 'sandbox' ? 'sandbox' : mode === 'gateway' ? 'gateway' : 'subgraph';
      expect(() => checkProductionConfig(config, production), name).not.toThrow();
      if (mode === 'sandbox') {
        expect(config.production, 'the sandbox refuses NODE_ENV=production').toBe(false);
        expect(config.sandboxHost).toBe('0.0.0.0');
        expect(config.redisUrl, 'the sandbox shares the stock book in Redis').toBeDefined();
        continue;
      }
      expect(config.production, name).toBe(true);
      expect(config.host).toBe('0.0.0.0');
      // Several instances: Redis is required (README "Deploying").
      const redis = new URL(config.redisUrl ?? 'missing:');
      expect(compose.services[redis.hostname]?.image, `${name}: REDIS_URL`).toMatch(/^redis:/);
      const sandbox = new URL(config.sandboxUrl ?? 'missing:');
      const [sandboxService] = composeByMode('sandbox');
      expect(sandbox.hostname, `${name}: SANDBOX_URL`).toBe(sandboxService!.name);
      expect(Number(sandbox.port)).toBe(PORTS.sandbox);
      expect(config.auth.jwksUrl).toBe(`${config.sandboxUrl!.replace(/\/$/, '')}/sandbox/.well-known/jwks.json`);
      expect(read('sandbox/server.ts')).toContain(`'/sandbox/.well-known/jwks.json'`);
      expect(config.telemetry.metricsToken, `${name}: METRICS_TOKEN, for Prometheus`).toBeTruthy();
    }
  });

  it('sets only environment variables the code reads and README documents', () => {
    for (const { name, service } of appServices) expectKnownEnv(Object.keys(service.environment ?? {}), `compose.yaml ${name}`);
  });

  it('listens, publishes and checks health on the default ports', () => {
    for (const { name, mode, service } of appServices) {
      const port = PORTS[mode];
      expect(service.healthcheck?.test?.join(' '), name).toContain(`127.0.0.1:${port}/health`);
      expect(seconds(service.stop_grace_period), `${name}: at least 15 s before SIGKILL`).toBeGreaterThanOrEqual(15);
      const published = (service.ports ?? []).map((p) => Number(String(p).split(':').at(-1)));
      const exposed = (service.expose ?? []).map(Number);
      for (const p of [...published, ...exposed]) expect(p, name).toBe(port);
      if (mode === 'gateway' || mode === 'sandbox') expect(published, name).toEqual([port]);
    }
    const hostPorts = appServices.flatMap((s) => (s.service.ports ?? []).map((p) => String(p).split(':').slice(0, -1).join(':')));
    expect(new Set(hostPorts).size, 'distinct host ports').toBe(hostPorts.length);
  });

  it('lets the gateways reach both instances of every subgraph by one name', () => {
    const aliases = (s: ComposeService, name: string) => [name, ...(s.networks?.default?.aliases ?? [])];
    for (const gateway of composeByMode('gateway')) {
      const config = loadConfig(gateway.env);
      for (const subgraph of SUBGRAPH_NAMES) {
        const url = new URL(config.subgraphUrls[subgraph] ?? 'missing:');
        expect(url.pathname, `${gateway.name} ${subgraph}`).toBe('/graphql');
        expect(Number(url.port)).toBe(PORTS[subgraph]);
        const instances = composeByMode(subgraph);
        for (const instance of instances) expect(aliases(instance.service, instance.name), `${instance.name} answers ${url.hostname}`).toContain(url.hostname);
        expect(gateway.service.depends_on?.[instances[0]!.name]?.condition).toBe('service_healthy');
      }
    }
    for (const subgraph of SUBGRAPH_NAMES) {
      for (const instance of composeByMode(subgraph)) {
        expect(instance.service.depends_on?.redis?.condition, instance.name).toBe('service_healthy');
        expect(instance.service.depends_on?.[composeByMode('sandbox')[0]!.name]?.condition, instance.name).toBe('service_healthy');
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  resources?: string[];
}

const K8S_DIR = 'deploy/k8s';
const k8sFiles = readdirSync(join(ROOT, K8S_DIR)).filter((f) => f.endsWith('.yaml'));
const k8sObjects: K8sObject[] = k8sFiles
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((file) =>
    parseAllDocuments(read(`${K8S_DIR}/${file}`)).map((doc) => {
      if (!('errors' in doc)) throw new Error(`${file}: empty document`);
      expect(doc.errors, file).toEqual([]);
      return doc.toJS() as K8sObject;
    }),
  )
  .filter(Boolean);
const k8s = (kind: string, name: string) => k8sObjects.find((o) => o.kind === kind && o.metadata.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

interface Container {
  image: string;
  args?: string[];
  command?: string[];
  ports?: { containerPort: number; name?: string }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean };
}

describe('deploy/k8s', () => {
  it('lists every manifest in kustomization.yaml', () => {
    const kustomization = parse(read(`${K8S_DIR}/kustomization.yaml`)) as { resources: string[]; images?: { name: string; newTag?: string }[] };
    expect(new Set(kustomization.resources)).toEqual(new Set(k8sFiles.filter((f) => f !== 'kustomization.yaml')));
    for (const image of kustomization.images ?? []) expect(`${image.name}:${image.newTag ?? pkg.version}`).toBe(IMAGE);
  });

  it('runs only the image the Dockerfile builds', () => {
    const containers = k8sObjects.filter((o) => o.kind === 'Deployment').flatMap((d) => [...(d.spec.template.spec.containers as Container[]), ...((d.spec.template.spec.initContainers ?? []) as Container[])]);
    expect(containers.length).toBeGreaterThanOrEqual(SERVICES.length);
    for (const c of containers) expect(c.image).toBe(IMAGE);
  });

  for (const service of SERVICES) {
    describe(service, () => {
      const name = `retail-${service}`;
      const port = PORTS[service];

      it('has a Deployment with probes, resources and a non-root, drained pod on the default port', () => {
        const deployment = k8s('Deployment', name);
        expect(deployment, name).toBeDefined();
        const pod = deployment!.spec.template.spec;
        const podLabels = deployment!.spec.template.metadata.labels as Record<string, string>;
        expect(matches(deployment!.spec.selector.matchLabels, podLabels)).toBe(true);
        expect(deployment!.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(pod.enableServiceLinks, 'service links would set <SERVICE>_PORT=tcp://... over the *_PORT settings').toBe(false);
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(15);
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.runAsUser ?? dockerUid).toBe(dockerUid);
        const containers = pod.containers as Container[];
        expect(containers).toHaveLength(1);
        const container = containers[0]!;
        expect(modeOf(container.args)).toBe(service);
        expect(container.command, 'the image ENTRYPOINT runs dist/main.js').toBeUndefined();
        expect(container.ports?.map((p) => p.containerPort)).toEqual([port]);
        expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port });
        expect(container.livenessProbe?.httpGet).toEqual({ path: '/health', port });
        for (const kind of ['requests', 'limits'] as const) {
          expect(container.resources?.[kind]?.cpu, `${kind}.cpu`).toBeTruthy();
          expect(container.resources?.[kind]?.memory, `${kind}.memory`).toBeTruthy();
        }
        expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
        const annotations = deployment!.spec.template.metadata.annotations as Record<string, string>;
        expect(annotations['prometheus.io/scrape']).toBe('true');
        expect(annotations['prometheus.io/port']).toBe(String(port));
        expect(annotations['prometheus.io/path']).toBe('/metrics');
      });

      it('has a Service, a PodDisruptionBudget and a CPU HorizontalPodAutoscaler for the Deployment', () => {
        const deployment = k8s('Deployment', name)!;
        const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
        const svc = k8s('Service', name);
        expect(svc, `Service ${name}`).toBeDefined();
        expect(matches(svc!.spec.selector, podLabels)).toBe(true);
        const ports = svc!.spec.ports as { port: number; targetPort: number | string }[];
        expect(ports.map((p) => p.targetPort)).toEqual([port]);
        const pdb = k8sObjects.find((o) => o.kind === 'PodDisruptionBudget' && matches(o.spec.selector.matchLabels, podLabels));
        expect(pdb, `PodDisruptionBudget of ${name}`).toBeDefined();
        expect(pdb!.apiVersion).toBe('policy/v1');
        const hpa = k8sObjects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.kind === 'Deployment' && o.spec.scaleTargetRef.name === name);
        expect(hpa, `HorizontalPodAutoscaler of ${name}`).toBeDefined();
        expect(hpa!.apiVersion).toBe('autoscaling/v2');
        expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(hpa!.spec.maxReplicas).toBeGreaterThanOrEqual(hpa!.spec.minReplicas);
        expect(pdb!.spec.minAvailable ?? 0).toBeLessThan(hpa!.spec.minReplicas);
        const metrics = hpa!.spec.metrics as { type: string; resource?: { name: string } }[];
        expect(metrics.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')).toBe(true);
      });

      it('gives the process a configuration the code accepts, with METRICS_TOKEN from a Secret', () => {
        const container = (k8s('Deployment', name)!.spec.template.spec.containers as Container[])[0]!;
        const env: Record<string, string> = {};
        for (const from of container.envFrom ?? []) {
          const configMap = k8s('ConfigMap', from.configMapRef?.name ?? '');
          expect(configMap, `ConfigMap ${from.configMapRef?.name}`).toBeDefined();
          Object.assign(env, configMap!.data);
        }
        for (const variable of container.env ?? []) env[variable.name] = variable.value ?? `secret-${variable.valueFrom?.secretKeyRef?.key ?? 'value'}`;
        const token = container.env?.find((e) => e.name === 'METRICS_TOKEN');
        expect(token?.valueFrom?.secretKeyRef?.name).toBeTruthy();
        expectKnownEnv(Object.keys(env), `deploy/k8s ${name}`);
        const config = loadConfig(env);
        expect(config.production).toBe(true);
        expect(() => checkProductionConfig(config, service === 'gateway' ? 'gateway' : 'subgraph')).not.toThrow();
        expect(config.redisUrl).toBeDefined();
        expect(config.subgraphPorts).toEqual(defaults.subgraphPorts);
        expect(config.gatewayPort).toBe(defaults.gatewayPort);
        if (service !== 'gateway') return;
        for (const subgraph of SUBGRAPH_NAMES) {
          const url = new URL(config.subgraphUrls[subgraph] ?? 'missing:');
          const target = k8s('Service', url.hostname.split('.')[0]!);
          expect(target, `${subgraph}_URL names a Service`).toBeDefined();
          expect(target!.metadata.name).toBe(`retail-${subgraph}`);
          expect((target!.spec.ports as { port: number }[]).map((p) => p.port)).toContain(Number(url.port || 80));
          expect(url.pathname).toBe('/graphql');
        }
      });
    });
  }

  it('states the service objectives as the code defaults them', () => {
    const data = k8sObjects.find((o) => o.kind === 'ConfigMap')?.data ?? {};
    const { objectives } = defaults.telemetry;
    expect(Number(data.SLO_ORDER_ACK_SECONDS ?? objectives.orderAcknowledgementSeconds)).toBe(objectives.orderAcknowledgementSeconds);
    expect(Number(data.SLO_POSTING_SECONDS ?? objectives.postingSeconds)).toBe(objectives.postingSeconds);
    expect(Number(data.SLO_INVENTORY_FRESHNESS_SECONDS ?? objectives.inventoryFreshnessSeconds)).toBe(objectives.inventoryFreshnessSeconds);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Prometheus and Grafana

interface Series {
  type: string;
  labels: Set<string>;
}

/** Every series the product exports, from the registry itself (the catalog and Node's process series). */
const SERIES: Map<string, Series> = (() => {
  const registry = new Metrics({ processMetrics: true }).registry;
  const metrics = registry.getMetricsAsArray() as unknown as { name: string; labelNames?: readonly string[]; constructor: { name: string } }[];
  return new Map(metrics.map((m) => [m.name, { type: m.constructor.name.toLowerCase(), labels: new Set(m.labelNames ?? []) }]));
})();

/** The catalog series behind a name in PromQL: histograms' `_bucket`, `_sum` and `_count` map to their base name. */
function seriesOf(name: string): { base: string; series: Series; bucket: boolean } | undefined {
  const direct = SERIES.get(name);
  if (direct) return { base: name, series: direct, bucket: false };
  const match = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = match ? SERIES.get(match[1]!) : undefined;
  if (!match || !base || !['histogram', 'summary'].includes(base.type)) return undefined;
  return { base: match[1]!, series: base, bucket: match[2] === 'bucket' };
}

const SCRAPE_LABELS = ['job', 'instance'];

/** Checks one PromQL expression: its retail_ names, the labels it selects on, groups by and shows. Returns the base names. */
function checkExpr(expr: string, where: string, legendFormat?: string): string[] {
  const bases: string[] = [];
  const available = new Set(SCRAPE_LABELS);
  for (const match of expr.matchAll(/\b(retail_[a-z0-9_]+)\b(\{([^}]*)\})?/g)) {
    const found = seriesOf(match[1]!);
    expect(found, `${where}: ${match[1]} is not an exported series (common/telemetry/metrics.ts)`).toBeDefined();
    bases.push(found!.base);
    for (const label of found!.series.labels) available.add(label);
    if (found!.bucket) available.add('le');
    for (const matcher of (match[3] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)) {
      expect([...found!.series.labels, ...SCRAPE_LABELS], `${where}: ${match[1]} has no label ${matcher[1]}`).toContain(matcher[1]);
    }
  }
  for (const clause of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of clause[1]!.split(',').map((l) => l.trim()).filter(Boolean)) expect([...available], `${where}: by (${label})`).toContain(label);
  }
  for (const shown of (legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) expect([...available], `${where}: legend {{${shown[1]}}}`).toContain(shown[1]);
  return bases;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const alerts = parse(read('deploy/prometheus/alerts.yml')) as { groups: { name: string; rules: Rule[] }[] };
const rules = alerts.groups.flatMap((g) => g.rules);
const ruleFor = (objective: string) => rules.filter((r) => r.labels?.objective === objective);

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  authorization?: { type?: string; credentials_file?: string };
  static_configs?: { targets: string[] }[];
  kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[];
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string }[];
}

describe('deploy/prometheus', () => {
  it('alert rules name only exported series and labels', () => {
    expect(METRIC_NAMES.every((name) => SERIES.has(name))).toBe(true);
    for (const rule of rules) checkExpr(rule.expr, `alert ${rule.alert ?? rule.record}`);
  });

  it('every alert has an expression, a duration, a severity and a summary', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert, rule.expr).toBeTruthy();
      expect(rule.expr.trim()).not.toBe('');
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });

  it('alerts on each service objective at the code default of its SLO_* setting', () => {
    const { objectives } = defaults.telemetry;
    const cases = [
      ['order-acknowledgement', 'retail_order_acknowledgement_seconds', objectives.orderAcknowledgementSeconds, 'SLO_ORDER_ACK_SECONDS'],
      ['erp-posting', 'retail_erp_posting_lag_seconds', objectives.postingSeconds, 'SLO_POSTING_SECONDS'],
      ['inventory-freshness', 'retail_inventory_freshness_seconds', objectives.inventoryFreshnessSeconds, 'SLO_INVENTORY_FRESHNESS_SECONDS'],
    ] as const;
    const text = read('deploy/prometheus/alerts.yml');
    for (const [objective, metric, seconds, variable] of cases) {
      const matching = ruleFor(objective).filter((r) => r.expr.includes(metric));
      expect(matching.length, objective).toBeGreaterThan(0);
      expect(
        matching.some((rule) => rule.expr.endsWith(`> ${seconds}`)),
        `an ${objective} rule compares ${metric} with ${seconds}`,
      ).toBe(true);
      expect(text, `a comment ties the threshold to ${variable}`).toContain(`${variable} (default ${seconds})`);
      expect(CODE_ENV.has(variable) && README_ENV.has(variable), variable).toBe(true);
    }
  });

  it('alerts on open breakers, dead letters, gateway errors and services down', () => {
    const exprs = rules.map((r) => r.expr);
    expect(exprs.some((e) => /retail_circuit_breaker_state\)?\s*==\s*(\d+)/.exec(e)?.[1] === String(BREAKER_STATE_VALUES.open))).toBe(true);
    expect(exprs.some((e) => /retail_outbox_dead_letters\)?\s*>\s*0/.test(e))).toBe(true);
    expect(exprs.some((e) => e.includes('retail_graphql_requests_total{outcome="error"}'))).toBe(true);
    const down = exprs.find((e) => /^up\{job=~"([^"]+)"\}\s*==\s*0$/.test(e));
    expect(down).toBeDefined();
    expect(new Set(/"([^"]+)"/.exec(down!)![1]!.split('|'))).toEqual(new Set(SERVICES));
  });

  it('prometheus.yml scrapes both instances of every service in compose.yaml on its default port, with the token', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
    expect(new Set(config.scrape_configs.map((s) => s.job_name))).toEqual(new Set(SERVICES));
    const prometheus = composeServices.find(([, s]) => /^prom\/prometheus:/.test(s.image ?? ''))?.[1];
    expect(prometheus).toBeDefined();
    const mounted = new Set([...(prometheus!.volumes ?? []).map((v) => v.split(':')[1]), ...(prometheus!.configs ?? []).map((c) => c.target)]);
    for (const file of config.rule_files) expect(mounted, file).toContain(file);
    expect(prometheus!.volumes).toContain('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    for (const scrape of config.scrape_configs) {
      const mode = scrape.job_name as Service;
      expect(scrape.metrics_path ?? '/metrics').toBe('/metrics');
      expect(scrape.authorization?.credentials_file, scrape.job_name).toBeTruthy();
      expect(mounted, 'the token file is mounted').toContain(scrape.authorization!.credentials_file);
      const targets = (scrape.static_configs ?? []).flatMap((s) => s.targets);
      expect(new Set(targets)).toEqual(new Set(composeByMode(mode).map((s) => `${s.name}:${PORTS[mode]}`)));
    }
    // The token Prometheus sends is the one the services accept.
    const token = (prometheus!.configs ?? []).map((c) => compose.configs?.[c.source]?.content).find(Boolean);
    for (const service of appServices.filter((s) => s.mode !== 'sandbox')) expect(interpolate(token ?? '')).toBe(service.env.METRICS_TOKEN);
  });

  it('prometheus-kubernetes.yml finds the pods of deploy/k8s and names their jobs as alerts.yml does', () => {
    const config = parse(read('deploy/prometheus/prometheus-kubernetes.yml')) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
    const [scrape] = config.scrape_configs;
    expect(scrape?.authorization?.credentials_file).toBeTruthy();
    const namespaces = scrape!.kubernetes_sd_configs?.flatMap((sd) => sd.namespaces?.names ?? []) ?? [];
    const relabel = scrape!.relabel_configs ?? [];
    const jobFrom = relabel.find((r) => r.target_label === 'job')?.source_labels?.[0];
    const keep = relabel.filter((r) => r.action === 'keep');
    for (const service of SERVICES) {
      const deployment = k8s('Deployment', `retail-${service}`)!;
      expect(namespaces).toContain(deployment.metadata.namespace);
      const labels = deployment.spec.template.metadata.labels as Record<string, string>;
      const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
      const meta = (key: string) => {
        const label = /^__meta_kubernetes_pod_label_(.+)$/.exec(key);
        if (label) return Object.entries(labels).find(([k]) => k.replace(/[^a-zA-Z0-9_]/g, '_') === label[1])?.[1];
        const annotation = /^__meta_kubernetes_pod_annotation_(.+)$/.exec(key);
        if (annotation) return Object.entries(annotations).find(([k]) => k.replace(/[^a-zA-Z0-9_]/g, '_') === annotation[1])?.[1];
        return undefined;
      };
      for (const rule of keep) expect(meta(rule.source_labels![0]!), `${service} kept by ${rule.source_labels}`).toMatch(new RegExp(`^(?:${rule.regex})$`));
      expect(meta(jobFrom ?? ''), `${service}'s job label`).toBe(service);
    }
  });
});

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; legendFormat?: string }[];
  panels?: Panel[];
}

describe('deploy/grafana', () => {
  const dashboard = JSON.parse(read('deploy/grafana/retail-supergraph.json')) as { schemaVersion: number; uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query?: string }[] } };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const graphs = panels.filter((p) => p.type !== 'row');

  it('is a dashboard of rows and panels on a Prometheus data source variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toBeTruthy();
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title.toLowerCase());
    expect(titles.some((t) => t.startsWith('integration'))).toBe(true);
    expect(titles.some((t) => t.startsWith('business'))).toBe(true);
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable?.query).toBe('prometheus');
    for (const panel of graphs) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.datasource?.uid, panel.title).toBe(`\${${variable!.name}}`);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });

  it('queries only exported series and labels, and shows every series of the catalog', () => {
    const shown = new Set<string>();
    for (const panel of graphs) {
      for (const target of panel.targets ?? []) {
        expect(target.expr.trim(), panel.title).not.toBe('');
        for (const base of checkExpr(target.expr, `panel "${panel.title}"`, target.legendFormat)) shown.add(base);
      }
    }
    expect(METRIC_NAMES.filter((name) => !shown.has(name)), 'series without a panel').toEqual([]);
  });
});

describe('README', () => {
  it('documents only settings the code reads', () => {
    // Settings read by the scripts and tests rather than by the processes.
    const elsewhere = new Set<string>();
    for (const file of [...sourceFiles('scripts'), ...sourceFiles('bench'), ...sourceFiles('test/support')]) {
      for (const match of read(file).matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) elsewhere.add(match[1]!);
    }
    expect([...README_ENV].filter((name) => !CODE_ENV.has(name) && !elsewhere.has(name))).toEqual([]);
  });

  it('points to every deployment file', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('### Deployment files'));
    expect(readme.includes('### Deployment files'), 'README has a "### Deployment files" subsection').toBe(true);
    for (const file of ['Dockerfile', 'compose.yaml', 'deploy/k8s/', 'deploy/prometheus/prometheus.yml', 'deploy/prometheus/alerts.yml', 'deploy/grafana/retail-supergraph.json']) {
      expect(section, file).toContain(file);
    }
  });
});

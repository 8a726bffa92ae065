# syntax=docker/dockerfile:1
#
# One image for every process of the graph: `docker run retail-supergraph:0.1.0 <mode>`, where <mode> is
# `gateway` (the default), `subgraph <catalog|inventory|orders|customers|finance|nodes>` or `sandbox` (the stand-in
# systems of record, development only: give it NODE_ENV other than production). The all-in-one mode (no argument)
# refuses NODE_ENV=production, which this image sets, so the image always names a mode.
#
#   docker build -t retail-supergraph:0.1.0 .
#
# test/deploy.test.ts checks this file against the code (ports, user, health check, production install).

# ---- build: every dependency, then tsc (and the web assets, into dist/web) ----
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies, the build output and the files the processes read ----
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY supergraph.graphql persisted-documents.json ./
COPY contract ./contract

# The image's files stay root's (read-only to the process); it runs as the base image's `node` user, by number so
# that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

# gateway, catalog, inventory, orders, customers, finance, nodes, sandbox (common/config.ts DEFAULT_PORTS)
EXPOSE 4000 4001 4002 4003 4004 4005 4006 4010

# No curl in the slim image: node asks /health. A container runs one mode, so whichever of the default ports (or
# of the *_PORT variables set) answers is this container's process.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const e=process.env;const ports=new Set([4000,4001,4002,4003,4004,4005,4006,4010,...Object.keys(e).filter((k)=>/^([A-Z]+_)?PORT$/.test(k)).map((k)=>Number(e[k])).filter((p)=>p>0)]);Promise.any([...ports].map((p)=>fetch('http://127.0.0.1:'+p+'/health',{signal:AbortSignal.timeout(3000)}).then((r)=>{if(!r.ok)throw new Error(String(r.status));}))).then(()=>process.exit(0),()=>process.exit(1));"]

# Exec form: node is PID 1 and gets SIGTERM itself (it drains, then exits 0). Same V8 flag as `npm start`.
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/main.js"]
CMD ["gateway"]

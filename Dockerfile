# The Ferry control plane image (deploy/kubernetes/ferry.yaml runs it as ferry:0.1.0):
#   docker build -t ferry:0.1.0 .
# Gateways run the upstream Envoy image; this one holds Ferry only (`ferry serve --envoy none`), plus the CLI.

# Build: all dependencies, the generated Envoy types (envoy-proto-ts, protos/generate.sh: buf and ts-proto from
# npm, bash and sha256sum from the base image), then Ferry's TypeScript.
FROM node:20-slim AS build
WORKDIR /ferry
# Dependencies first: a source change reuses this layer.
COPY package.json package-lock.json ./
COPY protos/package.json protos/
RUN npm ci --no-audit --no-fund
COPY protos/ protos/
COPY tsconfig.json ./
COPY src/ src/
RUN npm run build

# Production dependencies only. The workspace link node_modules/envoy-proto-ts -> ../protos comes with them.
FROM node:20-slim AS production-dependencies
WORKDIR /ferry
COPY package.json package-lock.json ./
COPY protos/package.json protos/
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /ferry
# package.json: "type": "module" for dist/, and the marker by which Ferry finds deploy/envoy and examples/.
COPY package.json ./
COPY protos/package.json protos/
COPY --from=production-dependencies /ferry/node_modules node_modules/
COPY --from=build /ferry/protos/dist protos/dist/
COPY --from=build /ferry/dist/src dist/src/
COPY deploy/envoy deploy/envoy/
COPY examples examples/
# The image's unprivileged `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 18000 18001
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["--help"]

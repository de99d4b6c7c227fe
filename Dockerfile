# Production image: compiled JavaScript on Node.js 20 (the uWebSockets.js binary needs Node 20's ABI).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080 DATA_DIR=/var/lib/exchange
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
# The SQL migrations are read at start-up (journal/pg/migrate.ts looks next to dist/ in the source tree layout).
COPY --from=build /app/journal/pg/migrations ./journal/pg/migrations
RUN mkdir -p /var/lib/exchange && chown node:node /var/lib/exchange
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server.js"]

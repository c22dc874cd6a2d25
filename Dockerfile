# The softswitch's Node processes: SIP application (src/main.ts), account API
# (src/api/api-main.ts), ledger writer (src/main.ts with SIP_ENABLED=false) and the operator CLI
# (bin/softswitch.js). docker-compose.yml picks the process by its command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY migrations ./migrations
COPY bin ./bin
# prompts for the embedded media endpoint (FreeSWITCH gets them by a mount)
COPY freeswitch/sounds ./freeswitch/sounds
USER node
EXPOSE 8080 8081
# docker compose exec app node bin/softswitch.js <command>   (operator CLI)
CMD ["node", "--import", "tsx", "src/main.ts"]

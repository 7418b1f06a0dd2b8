import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>MaxAI Platform API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

/**
 * Serves Swagger UI at /docs from the bundled swagger-ui-dist files (no CDN: it works offline,
 * under a strict script-src 'self' policy). Files are read once, at start.
 */
export function registerDocsUi(fastify: FastifyInstance): void {
  const root = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const contents = Object.fromEntries(
    Object.keys(ASSETS).map((name) => [name, readFileSync(path.join(root, name))]),
  );
  fastify.get('/docs', (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  fastify.get('/docs/init.js', (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(INIT),
  );
  for (const [name, type] of Object.entries(ASSETS)) {
    fastify.get(`/docs/${name}`, (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=86400').send(contents[name]),
    );
  }
}

import type { FastifyInstance } from 'fastify';
import type { BoxContext } from '../context.js';

const roleNames: Record<string, string> = { hub: '主讲端（中心校）', 'teaching-point': '教学点', seed: '资源节点' };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A plain status page at / until the kiosk UI is served here; no script, so a strict CSP holds. */
export async function homeRoutes(app: FastifyInstance, ctx: BoxContext): Promise<void> {
  app.get('/', async (_req, reply) => {
    const role = ctx.role ? roleNames[ctx.role] ?? ctx.role : '未配置';
    const title = ctx.provisioning?.name ?? '教学点盒子';
    const hub = ctx.hubLink?.snapshot();
    const hubLine = hub ? (hub.reachable ? '已连接中心校' : '未连接中心校（离线工作）') : '';
    const body = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{font:28px/1.5 sans-serif;margin:64px}p{margin:16px 0}</style></head>
<body><h1>${esc(title)}</h1><p>角色：${esc(role)}</p>${hubLine ? `<p>${esc(hubLine)}</p>` : ''}<p>盒子编号：${esc(ctx.identity.boxId)}</p>
${ctx.provisioning ? '' : '<p>这台盒子还没有配置。请联系县电教馆技术人员。</p>'}</body></html>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'self'; style-src 'unsafe-inline'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
      .send(body);
  });
}

import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ProxyError } from './errors';
import type { ProxyMetrics } from './metrics';
import { sendError } from './request-context';

/** One dependency check of `/readyz`. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: string }>;
  /** A failed optional check makes the proxy `degraded`, not unready (it still serves). */
  optional?: boolean;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `/healthz`: the process answers. */
export function answerHealth(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/** `/readyz`: `ready`, `degraded` (an optional check failed) or `unready` (503), with every check. */
export async function answerReadiness(res: ServerResponse, checks: readonly ReadinessCheck[]): Promise<void> {
  const results = await Promise.all(
    checks.map(async (item) => {
      const result = await item.check().catch((error: Error) => ({ ok: false, detail: error.message }));
      return { name: item.name, optional: item.optional ?? false, ...result };
    }),
  );
  const failed = results.filter((result) => !result.ok);
  const status = failed.some((result) => !result.optional) ? 'unready' : failed.length > 0 ? 'degraded' : 'ready';
  sendJson(res, status === 'unready' ? 503 : 200, { status, checks: results });
}

/** `/metrics`: the Prometheus text of this proxy's registry. */
export async function answerMetrics(res: ServerResponse, metrics: ProxyMetrics, logger: Logger): Promise<void> {
  try {
    const text = await metrics.registry.metrics();
    res.setHeader('content-type', metrics.registry.contentType);
    res.end(text);
  } catch (error) {
    logger.error({ err: error }, 'unexpected failure');
    sendError(res, new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
  }
}

import { discardBody } from './body-pump';
import { planMediaAnswer, type ClientAsk } from './range-answer';
import type { RequestContext } from './request-context';
import { BodyPosition, deliverResumingBody, type BodyResumer } from './resume';
import type { UpstreamResponse } from './upstream';

/**
 * Answers a media resource: the planned status and headers (exact Range semantics, see
 * `range-answer.ts`), then the body, resumed when it breaks off (see `resume.ts`).
 */
export async function sendMedia(
  ctx: RequestContext,
  resumer: BodyResumer,
  fetched: { upstream: UpstreamResponse; head: Buffer[]; ask: ClientAsk },
): Promise<void> {
  const { upstream } = fetched;
  const plan = planMediaAnswer(fetched.ask, upstream);
  if (plan.kind === 'refuse') {
    discardBody(upstream.body);
    throw plan.error;
  }
  // Read before the headers are given away to writeHead.
  const position = plan.bodyless ? undefined : new BodyPosition({ first: plan.first, last: plan.last, headers: plan.headers });
  ctx.writeHead(plan.status, plan.headers);
  if (position === undefined) {
    discardBody(upstream.body);
    ctx.res.end();
    return;
  }
  // Returned, not awaited: this frame is let go while the body runs.
  return deliverResumingBody(ctx.res, resumer, { body: upstream.body, head: fetched.head, skip: plan.skip, position }, ctx);
}

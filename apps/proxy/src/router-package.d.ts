// The `router` package (Express 5's router) ships no types; the part of its API the proxy uses.
declare module 'router' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  type Next = (error?: unknown) => void;
  type Handler<Req, Res> = (req: Req, res: Res, next: Next) => void;
  type Path = string | readonly string[];

  interface RouterInstance<Req extends IncomingMessage, Res extends ServerResponse> {
    (req: Req, res: Res, done: Next): void;
    use(handler: Handler<Req, Res>): this;
    get(path: Path, handler: Handler<Req, Res>): this;
    all(path: Path, handler: Handler<Req, Res>): this;
  }

  interface RouterConstructor {
    new <Req extends IncomingMessage, Res extends ServerResponse>(options?: { caseSensitive?: boolean; strict?: boolean }): RouterInstance<Req, Res>;
  }

  const Router: RouterConstructor;
  export default Router;
}

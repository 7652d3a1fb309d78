import { Client } from 'undici';

/**
 * Connections a server accepted until now, counted after one more of its own: the kernel hands
 * connections to the server in the order they were made, so every connection opened before this
 * call has been counted once the new one has. A leak test waits on this, not on a connection
 * that may never come. `accepted` reads the server's count of 'connection' events; `url` is one
 * of its resources (asked with HEAD).
 */
export async function connectionsSoFar(accepted: () => number, url: string): Promise<number> {
  const { origin, pathname, search } = new URL(url);
  const client = new Client(origin);
  try {
    const response = await client.request({ path: `${pathname}${search}`, method: 'HEAD' });
    await response.body.dump();
    return accepted() - 1;
  } finally {
    await client.close();
  }
}

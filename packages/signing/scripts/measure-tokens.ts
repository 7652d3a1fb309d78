// Measures what the README and the issue ask for: the size of a realistic proxy token, and how
// many tokens per second one sealer seals and opens. Run it, do not test with it (timings vary):
//   node --conditions=@strm/source --import tsx scripts/measure-tokens.ts
import { createHash } from 'node:crypto';
import { createTokenSealer } from '@strm/signing';
import { realisticPayload } from '../test/realistic-payload';

const payload = realisticPayload;
const { url } = payload;

const sealer = createTokenSealer<typeof payload>({ secret: 'a-long-random-secret-of-the-operator', previousSecrets: ['old'] });
const token = sealer.seal(payload);
const json = Buffer.byteLength(JSON.stringify(payload));
console.log(`upstream URL: ${url.length} characters; payload JSON: ${json} bytes`);
console.log(`token: ${token.length} characters (${json + 39} bytes before base64url; limit 1536)`);

function rate(label: string, count: number, run: () => void): void {
  for (let i = 0; i < 2000; i++) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label}: ${Math.round(count / seconds).toLocaleString('en')} tokens/s (${((seconds / count) * 1e6).toFixed(2)} µs each)`);
}

const small = { url: 'https://cdn.example/seg-00001.ts', kind: 'segment' };
const smallSealer = createTokenSealer<typeof small>({ secret: 'a-long-random-secret-of-the-operator' });
const smallToken = smallSealer.seal(small);
rate('seal, realistic payload', 100_000, () => sealer.seal(payload));
rate('open, realistic payload', 100_000, () => sealer.open(token));
rate(`seal, ${smallToken.length}-character token`, 100_000, () => smallSealer.seal(small));
rate(`open, ${smallToken.length}-character token`, 100_000, () => smallSealer.open(smallToken));

// The worst case of the proxy (a 2 KB upstream URL and 1 KB of random header characters): a
// version 2 token, deflated before sealing.
const random = (length: number, seed: string) => {
  let text = '';
  for (let block = 0; text.length < length; block++) {
    for (const byte of createHash('sha256').update(`${seed}:${block}`).digest()) if (text.length < length) text += String.fromCharCode(33 + (byte % 94));
  }
  return text.replace(/"/g, "'");
};
const worst = { u: `https://cdn.example.net/${random(2024, 'u').replace(/[^A-Za-z0-9]/g, 'x')}`, h: { Cookie: random(1018, 'h') }, k: 'segment' };
const worstToken = sealer.seal(worst as never);
console.log(`worst case: ${worstToken.length}-character token (version ${Buffer.from(worstToken, 'base64url')[0]})`);
rate('seal, worst case (version 2)', 20_000, () => sealer.seal(worst as never));
rate('open, worst case (version 2)', 20_000, () => sealer.open(worstToken));

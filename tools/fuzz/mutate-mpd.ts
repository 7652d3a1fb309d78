// Mutated MPEG-DASH manifests, drawn from a seed and one of the committed fixtures: odd template
// identifiers, BaseURLs, entity declarations, deep nesting, many Representations, broken XML.
import type { SeededRandom } from '../harness/random';
import type { MutationScale } from './mutate-playlist';

const TEMPLATE_VALUES = [
  'chunk-$Number%0999d$.m4s', 'c-$Time$$.m4s', '$$$.m4s', '$Bandwidth%d$-$Number$.m4s', '$Unknown$.m4s', '$Number%-5d$.m4s', '$RepresentationID$/$Number%05d$.m4s',
  'http://169.254.169.254/$Number$', '//evil.example/$Number$.m4s', 'javascript:$Number$', '../../$Number$.m4s', '%zz$Number$.m4s', '',
];
const BASE_URLS = ['http://127.0.0.2/', 'file:///etc/', '//evil.example/', 'https://127.0.0.1:1/', '../', 'data:text/plain,x', ' ', 'x/'.repeat(500)];

/** One mutation of the manifest's text. */
function mutateText(random: SeededRandom, text: string, scale: MutationScale): string {
  switch (random.int(0, 8)) {
    case 0: return text.replace(/(media|initialization)="[^"]*"/, (_m, name: string) => `${name}="${random.pick(TEMPLATE_VALUES)}"`);
    case 1: return text.replace(/<Period\b/, `<BaseURL>${random.pick(BASE_URLS)}</BaseURL><Period`);
    case 2: {
      const laughs = '<!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
      return text.replace(/(<\?xml[^>]*>)?/, (m) => `${m}${laughs}`).replace(/media="/, 'media="&c;');
    }
    case 3: {
      const depth = random.int(10, Math.min(5000, scale.maxExtraUris));
      return text.replace('</Period>', `${'<X>'.repeat(depth)}${'</X>'.repeat(depth)}</Period>`);
    }
    case 4: {
      const representation = /<Representation[\s\S]*?<\/Representation>/.exec(text)?.[0];
      if (representation === undefined) return text;
      const copies = random.int(1, Math.min(scale.maxExtraUris, 20_000) / 10);
      return text.replace(representation, representation.repeat(copies));
    }
    case 5: return text.replace(/="([^"]*)"/, () => `="${'q'.repeat(random.int(1000, scale.maxLine))}"`);
    case 6: return text.slice(0, random.int(0, text.length));
    case 7: {
      const at = random.int(0, text.length);
      return text.slice(0, at) + random.pick(['<![CDATA[x]]>', '<?pi x?>', '<!-- -->', '&amp;', '&bogus;', '\u0000', '<', '"', random.bytes(8).toString('latin1')]) + text.slice(at);
    }
    default: return text.replace(/<SegmentTemplate\b/, `<SegmentTemplate xlink:href="http://127.0.0.2/x.mpd" `).replace(/xmlns="[^"]*"/, random.pick(['', 'xmlns="urn:x"']));
  }
}

/** A mutated manifest from `base` (a fixture's text): 1 to 3 mutations. */
export function mutateManifest(random: SeededRandom, base: string, scale: MutationScale): Buffer {
  let text = base;
  const count = random.int(1, 3);
  for (let i = 0; i < count; i += 1) text = mutateText(random, text, scale);
  return Buffer.from(text, 'utf8');
}

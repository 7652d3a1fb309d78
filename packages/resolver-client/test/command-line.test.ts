import { describe, expect, it } from 'vitest';
import { commandEnvironment, expandCommandArguments, parseCommandLine, type EpisodeIdentity } from '../src/index';

const frieren: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };

describe('parseCommandLine', () => {
  it.each<[string, string[]]>([
    ['/opt/resolve', ['/opt/resolve']],
    ['/opt/resolve --slug {slug} -s {season} -e {episode}', ['/opt/resolve', '--slug', '{slug}', '-s', '{season}', '-e', '{episode}']],
    ['  /opt/resolve \t --x   y  ', ['/opt/resolve', '--x', 'y']],
    ['/opt/resolve --lang "{language}"', ['/opt/resolve', '--lang', '{language}']],
    ['/opt/resolve --lang="German Dub" x', ['/opt/resolve', '--lang=German Dub', 'x']],
    ['"/opt/my resolver/run" a', ['/opt/my resolver/run', 'a']],
    ['/opt/resolve "" b', ['/opt/resolve', '', 'b']],
    ['/opt/resolve a"b c"d', ['/opt/resolve', 'ab cd']],
    // No shell: these are plain characters.
    ["/opt/resolve 'single quoted' $HOME;ls|x *", ['/opt/resolve', "'single", "quoted'", '$HOME;ls|x', '*']],
    ['/opt/resolve C:\\path\\to', ['/opt/resolve', 'C:\\path\\to']],
    ['node adapters/yt-dlp.mjs https://videos.example/{slug}/{season}x{episode}', ['node', 'adapters/yt-dlp.mjs', 'https://videos.example/{slug}/{season}x{episode}']],
    ['/opt/resolve {"json":1} {A} {}', ['/opt/resolve', '{json:1}', '{A}', '{}']],
  ])('parseCommandLine(%j)', (line, argv) => {
    expect(parseCommandLine(line)).toEqual(argv);
  });

  it.each<[string, RegExp]>([
    ['', /must name a program; received an empty line/],
    ['   ', /must name a program/],
    ['"" --x', /must name a program/],
    ['/opt/resolve --lang "German Dub', /double quote at character 21 that is never closed/],
    ['/opt/resolve --slug ${slug}', /\$\{slug\}: no shell runs, so nothing expands \$ variables; write \{slug\}/],
    ['/opt/resolve --lang {lang}', /unknown placeholder \{lang\}; known: \{site\} \{slug\} \{season\} \{episode\} \{language\} \{provider\}/],
  ])('parseCommandLine(%j) throws', (line, message) => {
    expect(() => parseCommandLine(line)).toThrow(TypeError);
    expect(() => parseCommandLine(line)).toThrow(message);
  });
});

describe('expandCommandArguments', () => {
  it.each<[string, Partial<EpisodeIdentity>, string[]]>([
    ['/opt/r --slug {slug} -s {season} -e {episode} --lang {language}', {}, ['/opt/r', '--slug', 'frieren', '-s', '1', '-e', '3', '--lang', 'German Dub']],
    ['/opt/r https://{site}/anime/{slug}/staffel-{season}/episode-{episode}', {}, ['/opt/r', 'https://aniworld.to/anime/frieren/staffel-1/episode-3']],
    ['/opt/r -p {provider}', {}, ['/opt/r', '-p', '']],
    ['/opt/r -p {provider}', { provider: 'VOE' }, ['/opt/r', '-p', 'VOE']],
    ['/opt/r {slug}{slug}', { slug: 'ab' }, ['/opt/r', 'abab']],
    ['/opt/r --slug {slug}', { slug: '$(reboot)' }, ['/opt/r', '--slug', '$(reboot)']],
    ['/opt/r --slug {slug}', { slug: '; rm -rf /' }, ['/opt/r', '--slug', '; rm -rf /']],
    ['/opt/r --slug {slug}', { slug: '{season}' }, ['/opt/r', '--slug', '{season}']],
  ])('expandCommandArguments(parseCommandLine(%j), %j)', (line, identity, argv) => {
    expect(expandCommandArguments(parseCommandLine(line), { ...frieren, ...identity })).toEqual(argv);
  });
});

describe('commandEnvironment', () => {
  it('names every identity field, an empty provider and STRM_REFRESH', () => {
    expect(commandEnvironment(frieren, false)).toEqual({
      STRM_SITE: 'aniworld.to', STRM_SLUG: 'frieren', STRM_SEASON: '1', STRM_EPISODE: '3',
      STRM_LANGUAGE: 'German Dub', STRM_PROVIDER: '', STRM_REFRESH: '0',
    });
    expect(commandEnvironment({ ...frieren, provider: 'VOE' }, true)).toMatchObject({ STRM_PROVIDER: 'VOE', STRM_REFRESH: '1' });
  });
});

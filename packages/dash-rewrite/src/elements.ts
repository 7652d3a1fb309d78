import type { UrlKind } from './types';

/** One URL-bearing attribute of an element. */
export interface UrlAttributeRule {
  attribute: string;
  kind: UrlKind;
}

/** What an MPD element holds as URLs: in attributes, or as its text (`kind` set). */
export interface ElementRule {
  attributes?: readonly UrlAttributeRule[];
  /** The element's text is a URL of this kind. */
  textKind?: UrlKind;
  /** `SegmentTemplate`: its URLs hold `$…$` identifiers the player expands. */
  template?: boolean;
  /** The section of ISO/IEC 23009-1 (5th edition) or the DASH-IF document that defines it. */
  source: string;
}

/**
 * Every URL of an MPD, by element local name (ISO/IEC 23009-1; content steering from DASH-IF
 * IOP "Content Steering"). `UTCTiming` is left out on purpose: see the README.
 * Matched only on elements of the MPD namespace (`urn:mpeg:dash:schema:mpd:2011`) or of no namespace.
 */
export const ELEMENT_RULES: ReadonlyMap<string, ElementRule> = new Map<string, ElementRule>([
  ['BaseURL', { textKind: 'base', source: '5.6' }],
  ['Location', { textKind: 'manifest', source: '5.3.1.2 (MPD@Location)' }],
  ['PatchLocation', { textKind: 'patch', source: '5.15 (MPD patch)' }],
  ['ContentSteering', { textKind: 'steering', source: 'DASH-IF Content Steering 5.1' }],
  [
    'SegmentTemplate',
    {
      template: true,
      attributes: [
        { attribute: 'media', kind: 'segment' },
        { attribute: 'initialization', kind: 'init' },
        { attribute: 'index', kind: 'index' },
        { attribute: 'bitstreamSwitching', kind: 'init' },
      ],
      source: '5.3.9.4',
    },
  ],
  [
    'SegmentURL',
    {
      attributes: [
        { attribute: 'media', kind: 'segment' },
        { attribute: 'index', kind: 'index' },
      ],
      source: '5.3.9.3',
    },
  ],
  ['Initialization', { attributes: [{ attribute: 'sourceURL', kind: 'init' }], source: '5.3.9.2 (URLType)' }],
  ['RepresentationIndex', { attributes: [{ attribute: 'sourceURL', kind: 'index' }], source: '5.3.9.2 (URLType)' }],
  ['BitstreamSwitching', { attributes: [{ attribute: 'sourceURL', kind: 'init' }], source: '5.3.9.3 (URLType)' }],
]);

/** The namespace of MPD elements. */
export const MPD_NAMESPACE = 'urn:mpeg:dash:schema:mpd:2011';
/** The namespace of MPD patch documents (their root is `Patch`). */
export const PATCH_NAMESPACE = 'urn:mpeg:dash:schema:mpd-patch:2020';

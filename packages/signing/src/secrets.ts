/**
 * Checks a secret (or a list of them) once, up front, and returns the list. An empty secret is
 * always a configuration mistake: HMAC would accept it and sign with a key anyone can guess.
 *
 * @example
 * ```ts
 * secretList(['new', 'old'], 'secrets'); // ['new', 'old']
 * secretList('', 'secret'); // throws TypeError
 * ```
 */
export function secretList(secrets: string | readonly string[], option: string): string[] {
  const list = typeof secrets === 'string' ? [secrets] : Array.isArray(secrets) ? [...(secrets as readonly unknown[])] : null;
  if (list === null) {
    throw new TypeError(`${option} must be a string or an array of strings; received ${secrets === null ? 'null' : typeof secrets}`);
  }
  if (list.length === 0) throw new TypeError(`${option} must hold at least one secret; received an empty array`);
  list.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret.length === 0) {
      // Never echo the value: it is a secret, or a neighbour of one.
      const received = typeof secret === 'string' ? 'an empty string' : typeof secret;
      throw new TypeError(`${option}${typeof secrets === 'string' ? '' : `[${index}]`} must be a non-empty string; received ${received}`);
    }
  });
  return list as string[];
}

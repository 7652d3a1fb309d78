/**
 * The limits on one document's work, each a positive integer (the ratio ones may be fractional),
 * or their defaults. Shared with `@strm/dash-rewrite`, which bundles this file into its own build
 * (a relative import, not a dependency): the two packages take their limits alike.
 */
export function validateLimits<Name extends string>(defaults: Readonly<Record<Name, number>>, options: { readonly [Key in NoInfer<Name>]?: number | undefined }, fractional: readonly NoInfer<Name>[]): Record<Name, number> {
  const limits: Record<Name, number> = { ...defaults };
  for (const name of Object.keys(defaults) as Name[]) {
    const value = options[name];
    if (value === undefined) continue;
    const isFractional = fractional.includes(name);
    const valid = isFractional ? Number.isFinite(value) && value > 0 : Number.isSafeInteger(value) && value >= 1;
    if (!valid) throw new TypeError(`options.${name} must be a positive ${isFractional ? 'number' : 'integer'}, received ${String(value)}`);
    limits[name] = value;
  }
  return limits;
}

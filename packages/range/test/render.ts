/** Renders a call the way a reader would write it, for test names: `parseRangeHeader("bytes=0-1", 10)`. */
export function render(name: string, ...args: unknown[]): string {
  return `${name}(${args.map(renderValue).join(', ')})`;
}

function renderValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value);
}

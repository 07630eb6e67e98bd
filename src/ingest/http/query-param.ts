/**
 * One query-string parameter as a string. fastify turns a repeated parameter
 * (`?db=a&db=b`) into an array; inputs take the first, as InfluxDB and in_http do, instead
 * of letting an array reach code that expects a string.
 */
export function queryParam(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

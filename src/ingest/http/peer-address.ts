/** The client's address as identity resolution wants it: IPv4-mapped IPv6 prefixes stripped. */
export function peerAddress(remote: string | undefined): string | undefined {
  if (!remote) return undefined;
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

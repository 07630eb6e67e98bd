/**
 * Limits shared by every input. A decoded entry takes many times its bytes of memory (an empty
 * msgpack map is 1 byte and ~90 bytes of heap as a record, more as an entry), so the byte limits
 * alone let a few KB of gzip become gigabytes: each input also caps its entries per request.
 * Forward's cap is `forward.max_entries_per_request` (this by default); the HTTP inputs use this.
 */
export const DEFAULT_MAX_ENTRIES_PER_REQUEST = 1_000_000;

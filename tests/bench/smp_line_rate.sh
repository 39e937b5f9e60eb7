# Sourced by the SMP benchmarks: the line-rate limit of an upload over SMP's serial framing.
# line_rate_limit BYTES CHUNK BAUD prints the seconds the wire needs at BAUD (8N1, 10 bits a
# byte) for the upload requests of a BYTES-byte image sent in CHUNK-byte pieces: each request is
# the SMP header, about 24 bytes of CBOR keys and numbers (about 70 with the first chunk's len
# and sha) and the data, then framed: length and CRC, base64, a marker and newline per 93 raw
# bytes.
line_rate_limit() {
  awk -v n="$1" -v c="$2" -v baud="$3" 'BEGIN {
    wire = 0
    for (off = 0; off < n; off += c) {
      d = (n - off < c) ? n - off : c
      p = 8 + d + 24 + (off == 0 ? 46 : 0)
      raw = p + 4
      wire += int((raw + 2) / 3) * 4 + int((raw + 92) / 93) * 3
    }
    printf "%.2f", wire * 10 / baud }'
}

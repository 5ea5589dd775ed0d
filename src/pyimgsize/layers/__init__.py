"""Layer blobs: sniffing, decompression, strict streaming tar reading, per-layer summaries."""
